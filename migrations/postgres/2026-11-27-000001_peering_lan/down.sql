DROP TABLE connections;
DROP TABLE route_servers;
DROP TABLE peering_lans;
DROP TABLE ixp;
