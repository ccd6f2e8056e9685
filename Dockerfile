FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md constraints.txt ./
COPY mlob mlob
COPY domain domain
COPY projections projections
COPY api api
RUN pip install --no-cache-dir -c constraints.txt .
EXPOSE 8000
CMD ["mlob", "serve", "--host", "0.0.0.0", "--port", "8000"]
