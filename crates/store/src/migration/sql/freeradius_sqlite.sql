-- lastmile's FreeRADIUS tables for SQLite: column-compatible with FreeRADIUS 3.2's SQLite
-- schema (names, declared types, defaults and the indexes its queries use). FreeRADIUS's
-- SQLite queries write radacct times as Unix epoch integers; lastmile reads them through
-- one normalising module. Extra nullable columns tie rows to lastmile's records.

CREATE TABLE radacct (
    radacctid           INTEGER PRIMARY KEY AUTOINCREMENT,
    acctsessionid       varchar(64) NOT NULL default '',
    acctuniqueid        varchar(32) NOT NULL default '',
    username            varchar(64) NOT NULL default '',
    realm               varchar(64) default '',
    nasipaddress        varchar(15) NOT NULL default '',
    nasportid           varchar(32) default NULL,
    nasporttype         varchar(32) default NULL,
    acctstarttime       datetime NULL default NULL,
    acctupdatetime      datetime NULL default NULL,
    acctstoptime        datetime NULL default NULL,
    acctinterval        int(12) default NULL,
    acctsessiontime     int(12) default NULL,
    acctauthentic       varchar(32) default NULL,
    connectinfo_start   varchar(128) default NULL,
    connectinfo_stop    varchar(128) default NULL,
    acctinputoctets     bigint(20) default NULL,
    acctoutputoctets    bigint(20) default NULL,
    calledstationid     varchar(50) NOT NULL default '',
    callingstationid    varchar(50) NOT NULL default '',
    acctterminatecause  varchar(32) NOT NULL default '',
    servicetype         varchar(32) default NULL,
    framedprotocol      varchar(32) default NULL,
    framedipaddress     varchar(15) NOT NULL default '',
    framedipv6address   varchar(45) NOT NULL default '',
    framedipv6prefix    varchar(45) NOT NULL default '',
    framedinterfaceid   varchar(44) NOT NULL default '',
    delegatedipv6prefix varchar(45) NOT NULL default '',
    class               varchar(64) default NULL,
    tenant_id           bigint default NULL,
    customer_id         bigint default NULL
);
CREATE UNIQUE INDEX radacct_unique_key ON radacct (acctuniqueid);
CREATE INDEX radacct_username_idx ON radacct (username);
CREATE INDEX radacct_framedipaddress_idx ON radacct (framedipaddress);
CREATE INDEX radacct_framedipv6address_idx ON radacct (framedipv6address);
CREATE INDEX radacct_framedipv6prefix_idx ON radacct (framedipv6prefix);
CREATE INDEX radacct_framedinterfaceid_idx ON radacct (framedinterfaceid);
CREATE INDEX radacct_delegatedipv6prefix_idx ON radacct (delegatedipv6prefix);
CREATE INDEX radacct_acctsessionid_idx ON radacct (acctsessionid);
CREATE INDEX radacct_acctsessiontime_idx ON radacct (acctsessiontime);
CREATE INDEX radacct_acctstarttime_idx ON radacct (acctstarttime);
CREATE INDEX radacct_acctinterval_idx ON radacct (acctinterval);
CREATE INDEX radacct_acctstoptime_idx ON radacct (acctstoptime);
CREATE INDEX radacct_nasipaddress_idx ON radacct (nasipaddress);
CREATE INDEX radacct_class_idx ON radacct (class);
CREATE INDEX radacct_open_user_idx ON radacct (username) WHERE acctstoptime IS NULL;
CREATE INDEX radacct_customer_idx ON radacct (customer_id, acctstarttime);

CREATE TABLE radcheck (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    username    varchar(64) NOT NULL default '',
    attribute   varchar(64) NOT NULL default '',
    op          char(2) NOT NULL DEFAULT '==',
    value       varchar(253) NOT NULL default '',
    tenant_id   bigint default NULL,
    customer_id bigint default NULL
);
CREATE INDEX radcheck_username_idx ON radcheck (username);
CREATE INDEX radcheck_customer_idx ON radcheck (customer_id);

CREATE TABLE radgroupcheck (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    groupname varchar(64) NOT NULL default '',
    attribute varchar(64) NOT NULL default '',
    op        char(2) NOT NULL DEFAULT '==',
    value     varchar(253) NOT NULL default ''
);
CREATE INDEX radgroupcheck_groupname_idx ON radgroupcheck (groupname);

CREATE TABLE radgroupreply (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    groupname varchar(64) NOT NULL default '',
    attribute varchar(64) NOT NULL default '',
    op        char(2) NOT NULL DEFAULT '=',
    value     varchar(253) NOT NULL default ''
);
CREATE INDEX radgroupreply_groupname_idx ON radgroupreply (groupname);

CREATE TABLE radreply (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    username    varchar(64) NOT NULL default '',
    attribute   varchar(64) NOT NULL default '',
    op          char(2) NOT NULL DEFAULT '=',
    value       varchar(253) NOT NULL default '',
    tenant_id   bigint default NULL,
    customer_id bigint default NULL
);
CREATE INDEX radreply_username_idx ON radreply (username);
CREATE INDEX radreply_customer_idx ON radreply (customer_id);

CREATE TABLE radusergroup (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    username    varchar(64) NOT NULL default '',
    groupname   varchar(64) NOT NULL default '',
    priority    int(11) NOT NULL default '1',
    tenant_id   bigint default NULL,
    customer_id bigint default NULL
);
CREATE INDEX radusergroup_username_idx ON radusergroup (username);
CREATE INDEX radusergroup_customer_idx ON radusergroup (customer_id);

CREATE TABLE radpostauth (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    username varchar(64) NOT NULL default '',
    pass     varchar(64) NOT NULL default '',
    reply    varchar(32) NOT NULL default '',
    authdate timestamp NOT NULL,
    class    varchar(64) default NULL
);
CREATE INDEX radpostauth_username_idx ON radpostauth (username);
CREATE INDEX radpostauth_class_idx ON radpostauth (class);

CREATE TABLE nas (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    nasname     varchar(128) NOT NULL,
    shortname   varchar(32),
    type        varchar(30) DEFAULT 'other',
    ports       int(5),
    secret      varchar(60) DEFAULT 'secret' NOT NULL,
    server      varchar(64),
    community   varchar(50),
    description varchar(200) DEFAULT 'RADIUS Client',
    tenant_id   bigint default NULL,
    router_id   bigint default NULL
);
CREATE INDEX nas_nasname_idx ON nas (nasname);
CREATE UNIQUE INDEX nas_router_key ON nas (router_id);

CREATE TABLE nasreload (
    nasipaddress varchar(15) PRIMARY KEY,
    reloadtime   datetime NOT NULL
);
