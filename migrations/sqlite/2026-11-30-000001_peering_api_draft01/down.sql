DROP TABLE peering_api_auth_states;
DROP TABLE peering_api_rate;
DROP TABLE peering_api_requests;
