-- lastmile's FreeRADIUS tables for PostgreSQL: column-compatible with FreeRADIUS 3.2's
-- PostgreSQL schema (names, types, defaults and the indexes its queries use), so a stock
-- FreeRADIUS with rlm_sql can read and write them. Extra nullable columns tie rows to
-- lastmile's records; FreeRADIUS names its columns, so it ignores them.

-- Accounting: one row per session, closed (never deleted) by Stop, Accounting-On/Off or a
-- missed-interim timeout.
CREATE TABLE radacct (
    radacctid           bigserial PRIMARY KEY,
    acctsessionid       text NOT NULL,
    acctuniqueid        text NOT NULL UNIQUE,
    username            text,
    realm               text,
    nasipaddress        inet NOT NULL,
    nasportid           text,
    nasporttype         text,
    acctstarttime       timestamp with time zone,
    acctupdatetime      timestamp with time zone,
    acctstoptime        timestamp with time zone,
    acctinterval        bigint,
    acctsessiontime     bigint,
    acctauthentic       text,
    connectinfo_start   text,
    connectinfo_stop    text,
    acctinputoctets     bigint,
    acctoutputoctets    bigint,
    calledstationid     text,
    callingstationid    text,
    acctterminatecause  text,
    servicetype         text,
    framedprotocol      text,
    framedipaddress     inet,
    framedipv6address   inet,
    framedipv6prefix    inet,
    framedinterfaceid   text,
    delegatedipv6prefix inet,
    class               text,
    tenant_id           bigint,
    customer_id         bigint
);
CREATE INDEX radacct_open_unique_idx ON radacct (acctuniqueid) WHERE acctstoptime IS NULL;
CREATE INDEX radacct_open_nas_idx ON radacct (nasipaddress, acctstarttime) WHERE acctstoptime IS NULL;
CREATE INDEX radacct_start_user_idx ON radacct (acctstarttime, username);
CREATE INDEX radacct_class_idx ON radacct (class);
CREATE INDEX radacct_open_user_idx ON radacct (username) WHERE acctstoptime IS NULL;
CREATE INDEX radacct_customer_idx ON radacct (customer_id, acctstarttime);

-- Per-user check items (Cleartext-Password, Simultaneous-Use, Expiration, ...).
CREATE TABLE radcheck (
    id          serial PRIMARY KEY,
    username    text NOT NULL DEFAULT '',
    attribute   text NOT NULL DEFAULT '',
    op          varchar(2) NOT NULL DEFAULT '==',
    value       text NOT NULL DEFAULT '',
    tenant_id   bigint,
    customer_id bigint
);
CREATE INDEX radcheck_username_idx ON radcheck (username, attribute);
CREATE INDEX radcheck_customer_idx ON radcheck (customer_id);

-- Per-group check items.
CREATE TABLE radgroupcheck (
    id        serial PRIMARY KEY,
    groupname text NOT NULL DEFAULT '',
    attribute text NOT NULL DEFAULT '',
    op        varchar(2) NOT NULL DEFAULT '==',
    value     text NOT NULL DEFAULT ''
);
CREATE INDEX radgroupcheck_groupname_idx ON radgroupcheck (groupname, attribute);

-- Per-group reply items.
CREATE TABLE radgroupreply (
    id        serial PRIMARY KEY,
    groupname text NOT NULL DEFAULT '',
    attribute text NOT NULL DEFAULT '',
    op        varchar(2) NOT NULL DEFAULT '=',
    value     text NOT NULL DEFAULT ''
);
CREATE INDEX radgroupreply_groupname_idx ON radgroupreply (groupname, attribute);

-- Per-user reply items (Mikrotik-Rate-Limit, Framed-IP-Address, ...).
CREATE TABLE radreply (
    id          serial PRIMARY KEY,
    username    text NOT NULL DEFAULT '',
    attribute   text NOT NULL DEFAULT '',
    op          varchar(2) NOT NULL DEFAULT '=',
    value       text NOT NULL DEFAULT '',
    tenant_id   bigint,
    customer_id bigint
);
CREATE INDEX radreply_username_idx ON radreply (username, attribute);
CREATE INDEX radreply_customer_idx ON radreply (customer_id);

-- User to group membership.
CREATE TABLE radusergroup (
    id          serial PRIMARY KEY,
    username    text NOT NULL DEFAULT '',
    groupname   text NOT NULL DEFAULT '',
    priority    integer NOT NULL DEFAULT 0,
    tenant_id   bigint,
    customer_id bigint
);
CREATE INDEX radusergroup_username_idx ON radusergroup (username);
CREATE INDEX radusergroup_customer_idx ON radusergroup (customer_id);

-- Post-auth log. lastmile's generated FreeRADIUS configuration never writes passwords here.
CREATE TABLE radpostauth (
    id               bigserial PRIMARY KEY,
    username         text NOT NULL,
    pass             text,
    reply            text,
    calledstationid  text,
    callingstationid text,
    authdate         timestamp with time zone NOT NULL DEFAULT now(),
    class            text
);
CREATE INDEX radpostauth_username_idx ON radpostauth (username);
CREATE INDEX radpostauth_class_idx ON radpostauth (class);

-- RADIUS clients (routers), mirrored from lastmile's routers; read by FreeRADIUS at start-up
-- with read_clients = yes.
CREATE TABLE nas (
    id          serial PRIMARY KEY,
    nasname     text NOT NULL,
    shortname   text NOT NULL,
    type        text NOT NULL DEFAULT 'other',
    ports       integer,
    secret      text NOT NULL,
    server      text,
    community   text,
    description text,
    tenant_id   bigint,
    router_id   bigint
);
CREATE INDEX nas_nasname_idx ON nas (nasname);
CREATE UNIQUE INDEX nas_router_key ON nas (router_id);

-- When each NAS last rebooted (Accounting-On/Off), for the "lightweight" stale-session strategy.
CREATE TABLE nasreload (
    nasipaddress inet PRIMARY KEY,
    reloadtime   timestamp with time zone NOT NULL
);
