-- depends: 0001_need_to_know
-- Issue 16, defect 10: message ids are each organisation's own. The idempotency record is kept
-- under "<acting organisation>/<message id>" (api.ports.message_key); a record made before
-- this gets the organisation that acted in the step it recorded first.
UPDATE mlob_messages SET message_id = (
    SELECT i.actor_org FROM mlob_event_index i WHERE i.position = mlob_messages.first_position
) || '/' || message_id
WHERE EXISTS (SELECT 1 FROM mlob_event_index i WHERE i.position = mlob_messages.first_position);
