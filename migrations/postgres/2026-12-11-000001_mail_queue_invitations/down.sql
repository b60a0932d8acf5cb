DROP TABLE mail_limits;
DROP TABLE invitations;
DROP TABLE mail_queue;
