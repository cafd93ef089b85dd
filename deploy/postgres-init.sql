-- one database per service (plans is created by POSTGRES_DB)
CREATE DATABASE campaigns;
CREATE DATABASE compliance;
