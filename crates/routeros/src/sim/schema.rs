//! The menus the simulated router knows: for each, whether it holds a list or one item, its
//! properties with RouterOS-like defaults, which properties must be unique, which are
//! required, read-only or never printed, and which commands the API allows on it.
//!
//! This is data, not behaviour: [`super::model`] applies it.

/// Whether a menu holds many items with ids or exactly one without.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    List,
    Singleton,
}

const BOOL: u8 = 1;
const READ_ONLY: u8 = 2;
const HIDDEN: u8 = 4;

/// One property of a menu.
#[derive(Debug)]
pub(crate) struct Prop {
    pub name: &'static str,
    pub default: Option<&'static str>,
    flags: u8,
}

impl Prop {
    pub fn is_bool(&self) -> bool {
        self.flags & BOOL != 0
    }
    pub fn is_read_only(&self) -> bool {
        self.flags & READ_ONLY != 0
    }
    pub fn is_hidden(&self) -> bool {
        self.flags & HIDDEN != 0
    }
}

/// A property with no value until one is set.
const fn opt(name: &'static str) -> Prop {
    Prop {
        name,
        default: None,
        flags: 0,
    }
}
/// A property with a default value.
const fn def(name: &'static str, default: &'static str) -> Prop {
    Prop {
        name,
        default: Some(default),
        flags: 0,
    }
}
/// A yes/no property, printed as `true`/`false`.
const fn flag(name: &'static str, default: &'static str) -> Prop {
    Prop {
        name,
        default: Some(default),
        flags: BOOL,
    }
}
/// A property only the router sets.
const fn ro(name: &'static str, default: &'static str) -> Prop {
    Prop {
        name,
        default: Some(default),
        flags: READ_ONLY,
    }
}
/// A read-only yes/no property.
const fn ro_flag(name: &'static str, default: &'static str) -> Prop {
    Prop {
        name,
        default: Some(default),
        flags: READ_ONLY | BOOL,
    }
}

/// One menu.
#[derive(Debug)]
pub(crate) struct Schema {
    pub path: &'static str,
    pub kind: Kind,
    pub props: &'static [Prop],
    /// Properties whose values together must be unique (empty: no constraint).
    pub unique: &'static [&'static str],
    /// What an item is called in a duplicate-name trap.
    pub entity: &'static str,
    pub required: &'static [&'static str],
    /// Whether `add` is an API command of this menu (not for sessions).
    pub add: bool,
    /// Whether `set` is an API command of this menu.
    pub set: bool,
    /// Whether writes need the `full` group (the `policy` right), as for `/user`.
    pub full_only: bool,
}

impl Schema {
    pub fn prop(&self, name: &[u8]) -> Option<usize> {
        self.props.iter().position(|p| p.name.as_bytes() == name)
    }
}

const FILTER_PROPS: [Prop; 19] = [
    opt("chain"),
    def("action", "accept"),
    opt("src-address"),
    opt("dst-address"),
    opt("src-address-type"),
    opt("dst-address-type"),
    opt("src-address-list"),
    opt("dst-address-list"),
    opt("protocol"),
    opt("src-port"),
    opt("dst-port"),
    opt("in-interface"),
    opt("out-interface"),
    opt("hotspot"),
    opt("log-prefix"),
    opt("comment"),
    flag("disabled", "false"),
    ro("bytes", "0"),
    ro("packets", "0"),
];

const NAT_PROPS: [Prop; 21] = [
    opt("chain"),
    def("action", "accept"),
    opt("src-address"),
    opt("dst-address"),
    opt("src-address-type"),
    opt("dst-address-type"),
    opt("src-address-list"),
    opt("dst-address-list"),
    opt("protocol"),
    opt("src-port"),
    opt("dst-port"),
    opt("in-interface"),
    opt("out-interface"),
    opt("hotspot"),
    opt("log-prefix"),
    opt("to-addresses"),
    opt("to-ports"),
    opt("comment"),
    flag("disabled", "false"),
    ro("bytes", "0"),
    ro("packets", "0"),
];

const fn list(path: &'static str, props: &'static [Prop]) -> Schema {
    Schema {
        path,
        kind: Kind::List,
        props,
        unique: &[],
        entity: "item",
        required: &[],
        add: true,
        set: true,
        full_only: false,
    }
}

const fn named(path: &'static str, entity: &'static str, props: &'static [Prop]) -> Schema {
    Schema {
        unique: &["name"],
        entity,
        required: &["name"],
        ..list(path, props)
    }
}

const fn singleton(path: &'static str, props: &'static [Prop]) -> Schema {
    Schema {
        kind: Kind::Singleton,
        add: false,
        ..list(path, props)
    }
}

/// Every menu, in a fixed order (the model indexes tables by position).
pub(crate) static SCHEMAS: &[Schema] = &[
    singleton("/system/identity", &[def("name", "MikroTik")]),
    Schema {
        set: false,
        ..singleton(
            "/system/resource",
            &[
                ro("uptime", "0s"),
                ro("version", "7.16.2 (stable)"),
                ro("build-time", "2024-11-26 12:47:53"),
                ro("factory-software", "7.1"),
                ro("free-memory", "939524096"),
                ro("total-memory", "1073741824"),
                ro("cpu", "QEMU"),
                ro("cpu-count", "1"),
                ro("cpu-frequency", "2400"),
                ro("cpu-load", "1"),
                ro("free-hdd-space", "89128960"),
                ro("total-hdd-space", "134217728"),
                ro("architecture-name", "x86_64"),
                ro("board-name", "CHR"),
                ro("platform", "MikroTik"),
            ],
        )
    },
    Schema {
        required: &["name", "group"],
        full_only: true,
        ..named(
            "/user",
            "user",
            &[
                opt("name"),
                def("group", "read"),
                opt("address"),
                Prop {
                    name: "password",
                    default: Some(""),
                    flags: HIDDEN,
                },
                ro("last-logged-in", ""),
                opt("comment"),
                flag("disabled", "false"),
            ],
        )
    },
    named(
        "/ppp/secret",
        "secret",
        &[
            opt("name"),
            def("password", ""),
            def("service", "any"),
            def("profile", "default"),
            opt("local-address"),
            opt("remote-address"),
            def("caller-id", ""),
            def("routes", ""),
            def("limit-bytes-in", "0"),
            def("limit-bytes-out", "0"),
            opt("comment"),
            flag("disabled", "false"),
            ro("last-logged-out", "1970-01-01 00:00:00"),
            ro("last-caller-id", ""),
            ro("last-disconnect-reason", ""),
        ],
    ),
    named(
        "/ppp/profile",
        "profile",
        &[
            opt("name"),
            opt("local-address"),
            opt("remote-address"),
            opt("dns-server"),
            opt("rate-limit"),
            def("only-one", "default"),
            def("change-tcp-mss", "yes"),
            def("use-encryption", "default"),
            def("on-up", ""),
            def("on-down", ""),
            opt("address-list"),
            opt("comment"),
            ro_flag("default", "false"),
        ],
    ),
    Schema {
        unique: &[],
        required: &[],
        add: false,
        set: false,
        ..named(
            "/ppp/active",
            "session",
            &[
                ro("name", ""),
                ro("service", "pppoe"),
                ro("caller-id", ""),
                ro("encoding", ""),
                ro("address", ""),
                ro("uptime", "0s"),
                ro("session-id", "0x81000001"),
                ro("limit-bytes-in", "0"),
                ro("limit-bytes-out", "0"),
                ro_flag("radius", "false"),
            ],
        )
    },
    singleton(
        "/ppp/aaa",
        &[
            flag("use-radius", "false"),
            flag("accounting", "true"),
            def("interim-update", "0s"),
            flag("use-circuit-id-in-nas-port-id", "false"),
        ],
    ),
    Schema {
        required: &["name", "ranges"],
        ..named(
            "/ip/pool",
            "pool",
            &[
                opt("name"),
                opt("ranges"),
                def("next-pool", "none"),
                opt("comment"),
            ],
        )
    },
    Schema {
        required: &["address"],
        ..list(
            "/radius",
            &[
                def("service", ""),
                opt("address"),
                def("secret", ""),
                def("authentication-port", "1812"),
                def("accounting-port", "1813"),
                def("timeout", "300ms"),
                flag("accounting-backup", "false"),
                def("realm", ""),
                def("src-address", "0.0.0.0"),
                flag("require-message-auth", "true"),
                opt("called-id"),
                opt("domain"),
                opt("comment"),
                flag("disabled", "false"),
            ],
        )
    },
    singleton(
        "/radius/incoming",
        &[
            flag("accept", "false"),
            def("port", "3799"),
            def("vrf", "main"),
        ],
    ),
    Schema {
        required: &["name", "interface"],
        ..named(
            "/ip/hotspot",
            "server",
            &[
                opt("name"),
                opt("interface"),
                def("address-pool", "none"),
                def("profile", "default"),
                def("idle-timeout", "5m"),
                def("keepalive-timeout", "none"),
                def("login-timeout", "none"),
                def("addresses-per-mac", "unlimited"),
                opt("comment"),
                flag("disabled", "false"),
            ],
        )
    },
    named(
        "/ip/hotspot/profile",
        "profile",
        &[
            opt("name"),
            opt("hotspot-address"),
            def("dns-name", ""),
            def("html-directory", "hotspot"),
            def("login-by", "cookie,http-chap"),
            def("mac-auth-mode", "mac-as-username"),
            def("http-cookie-lifetime", "3d"),
            flag("split-user-domain", "false"),
            flag("use-radius", "false"),
            flag("radius-accounting", "true"),
            def("radius-interim-update", "received"),
            def("nas-port-type", "wireless-802.11"),
            def("radius-mac-format", "XX:XX:XX:XX:XX:XX"),
            ro_flag("default", "false"),
        ],
    ),
    named(
        "/ip/hotspot/user",
        "user",
        &[
            opt("name"),
            def("password", ""),
            def("profile", "default"),
            def("server", "all"),
            opt("mac-address"),
            opt("limit-uptime"),
            opt("comment"),
            flag("disabled", "false"),
        ],
    ),
    named(
        "/ip/hotspot/user/profile",
        "profile",
        &[
            opt("name"),
            def("idle-timeout", "none"),
            def("keepalive-timeout", "2m"),
            def("shared-users", "1"),
            opt("rate-limit"),
            def("address-pool", "none"),
            def("queue-type", "default-small"),
            def("on-login", ""),
            def("on-logout", ""),
            flag("add-mac-cookie", "true"),
            def("mac-cookie-timeout", "3d"),
            ro_flag("default", "false"),
        ],
    ),
    Schema {
        unique: &[],
        required: &[],
        add: false,
        set: false,
        ..named(
            "/ip/hotspot/active",
            "session",
            &[
                ro("server", "hotspot1"),
                ro("user", ""),
                ro("address", ""),
                ro("mac-address", ""),
                ro("login-by", "http-chap"),
                ro("uptime", "0s"),
                ro("idle-time", "0s"),
                ro("bytes-in", "0"),
                ro("bytes-out", "0"),
                ro_flag("radius", "false"),
            ],
        )
    },
    list(
        "/ip/hotspot/walled-garden/ip",
        &[
            def("action", "accept"),
            opt("dst-address"),
            opt("dst-port"),
            opt("src-address"),
            opt("protocol"),
            opt("server"),
            opt("dst-host"),
            opt("comment"),
            flag("disabled", "false"),
        ],
    ),
    list(
        "/ip/hotspot/walled-garden",
        &[
            def("action", "allow"),
            opt("dst-host"),
            opt("dst-port"),
            opt("path"),
            opt("server"),
            opt("method"),
            opt("comment"),
            flag("disabled", "false"),
        ],
    ),
    Schema {
        unique: &["service-name"],
        entity: "service",
        required: &["interface"],
        ..list(
            "/interface/pppoe-server/server",
            &[
                def("service-name", "service1"),
                opt("interface"),
                def("max-mtu", "auto"),
                def("max-mru", "auto"),
                def("mrru", "disabled"),
                def("authentication", "pap,chap,mschap1,mschap2"),
                def("keepalive-timeout", "10"),
                flag("one-session-per-host", "false"),
                def("max-sessions", "unlimited"),
                def("pado-delay", "0"),
                def("default-profile", "default"),
                flag("disabled", "true"),
            ],
        )
    },
    Schema {
        required: &["chain"],
        ..list("/ip/firewall/nat", &NAT_PROPS)
    },
    Schema {
        required: &["chain"],
        ..list("/ip/firewall/filter", &FILTER_PROPS)
    },
    Schema {
        unique: &["list", "address"],
        entity: "entry",
        required: &["list", "address"],
        ..list(
            "/ip/firewall/address-list",
            &[
                opt("list"),
                opt("address"),
                opt("timeout"),
                opt("comment"),
                flag("disabled", "false"),
                ro_flag("dynamic", "false"),
                ro("creation-time", "2025-01-01 00:00:00"),
            ],
        )
    },
    named(
        "/system/script",
        "script",
        &[
            opt("name"),
            def("source", ""),
            def(
                "policy",
                "ftp,reboot,read,write,policy,test,password,sniff,sensitive,romon",
            ),
            flag("dont-require-permissions", "false"),
            opt("comment"),
            ro("owner", "admin"),
            ro("run-count", "0"),
            ro("last-started", ""),
        ],
    ),
    named(
        "/system/scheduler",
        "scheduler",
        &[
            opt("name"),
            def("start-date", "2025-01-01"),
            def("start-time", "startup"),
            def("interval", "0s"),
            def("on-event", ""),
            def(
                "policy",
                "ftp,reboot,read,write,policy,test,password,sniff,sensitive,romon",
            ),
            opt("comment"),
            flag("disabled", "false"),
            ro("owner", "admin"),
            ro("run-count", "0"),
            ro("next-run", ""),
        ],
    ),
    singleton(
        "/interface/l2tp-server/server",
        &[
            flag("enabled", "false"),
            def("use-ipsec", "no"),
            def("ipsec-secret", ""),
            def("authentication", "pap,chap,mschap1,mschap2"),
            def("default-profile", "default-encryption"),
            def("max-mtu", "1450"),
            def("max-mru", "1450"),
            def("mrru", "disabled"),
            def("keepalive-timeout", "30"),
            flag("one-session-per-host", "false"),
            flag("allow-fast-path", "false"),
            def("caller-id-type", "ip-address"),
        ],
    ),
    singleton(
        "/interface/sstp-server/server",
        &[
            flag("enabled", "false"),
            def("port", "443"),
            def("certificate", "none"),
            def("authentication", "pap,chap,mschap1,mschap2"),
            def("default-profile", "default"),
            def("tls-version", "any"),
            flag("verify-client-certificate", "false"),
            flag("pfs", "false"),
            def("max-mtu", "1500"),
            def("max-mru", "1500"),
            def("keepalive-timeout", "60"),
        ],
    ),
    singleton(
        "/interface/pptp-server/server",
        &[
            flag("enabled", "false"),
            def("authentication", "mschap1,mschap2"),
            def("default-profile", "default-encryption"),
            def("max-mtu", "1450"),
            def("max-mru", "1450"),
            def("mrru", "disabled"),
            def("keepalive-timeout", "30"),
        ],
    ),
    singleton(
        "/snmp",
        &[
            flag("enabled", "false"),
            def("contact", ""),
            def("location", ""),
            def("engine-id", ""),
            def("trap-community", "public"),
            def("trap-version", "1"),
            def("trap-generators", "temp-exception"),
            def("src-address", "::"),
            def("vrf", "main"),
        ],
    ),
    named(
        "/snmp/community",
        "community",
        &[
            opt("name"),
            def("addresses", "::/0"),
            def("security", "none"),
            flag("read-access", "true"),
            flag("write-access", "false"),
            def("authentication-protocol", "MD5"),
            def("encryption-protocol", "DES"),
            opt("comment"),
            flag("disabled", "false"),
            ro_flag("default", "false"),
        ],
    ),
    // RouterOS 7 writes small files through the API (`/file/add name=… contents=…`): how
    // hotspot pages reach the router. `size` is computed from `contents` when printed.
    named(
        "/file",
        "file",
        &[
            opt("name"),
            def("contents", ""),
            ro("type", "file"),
            ro("size", "0"),
            ro("creation-time", "2025-01-01 00:00:00"),
        ],
    ),
];

/// The index of a menu in [`SCHEMAS`].
pub(crate) fn find(path: &[u8]) -> Option<usize> {
    SCHEMAS.iter().position(|s| s.path.as_bytes() == path)
}
