// The API's interactive documentation (/docs): Swagger UI, served by mlob itself (vendor/).
/* global SwaggerUIBundle */
SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null, // no badge from validator.swagger.io: nothing from elsewhere
});
