DROP TABLE peering_sessions;
DROP TABLE api_tokens;
