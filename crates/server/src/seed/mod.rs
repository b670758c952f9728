//! Populated databases: the demo ISP `lastmile demo` starts with (operators, sub-operators,
//! packages at all three levels, pools, zones, routers and a few hundred customers in every
//! status and billing type, most of those in service online with a week of usage, resellers
//! with balances and a credit line, recharges paid along the chain, postpaid invoices and
//! their cash payments), and the
//! large synthetic tenants the benchmarks measure. Both write through the store's write
//! path (accounting through the built-in server's) like any other change, as the system.

use chrono::{DateTime, TimeDelta, Utc};
use rand::{RngExt as _, SeedableRng as _};

use domain::access::{Owner, PermissionSet, Role};
use domain::customer::NewCustomer;
use domain::customer::{BillingType, CustomerStatus, Msisdn, PppPassword, Username};
use domain::ids::{TenantId, UserId};
use domain::locale::{CountryCode, CurrencyCode, TimeZoneName};
use domain::money::Money;
use domain::network::{MacAddr, Pool};
use domain::package::{BurstInput, ConnectionType, RateLimit};
use domain::tenant::{NewTenant, Realm, Settings};
use domain::user::Email;
use store::package::{NewDerived, NewMaster, Package, ServiceRow};
use store::{Author, Db, StoreError};

mod bench;
pub mod money;
mod sessions;

pub use bench::{Shape as BenchShape, bench};

/// What a seeding run made, for printing.
#[derive(Debug, Clone, Default)]
pub struct Seeded {
    /// The tenant.
    pub tenant_id: i64,
    /// Its Admin.
    pub admin_id: i64,
    /// Sign-ins made up: (role, e-mail, password).
    pub accounts: Vec<(String, String, String)>,
    /// Customers created.
    pub customers: usize,
    /// Recharges made (the demo's).
    pub recharges: usize,
    /// Postpaid invoices issued (the demo's).
    pub invoices: usize,
    /// Cash payments of postpaid invoices (the demo's).
    pub payments: usize,
    /// The router the simulated NAS plays, when one was asked for.
    pub nas: Option<NasSeed>,
}

/// A simulated NAS for the demo's first router: the API it is reached by.
#[derive(Debug, Clone)]
pub struct DemoNas {
    /// The simulated router's API port on 127.0.0.1.
    pub api_port: u16,
    /// The API user `lastmile`'s password there.
    pub api_password: String,
}

/// The demo's first router as the simulated NAS plays it: its RADIUS secret and its
/// customers (user name, password in clear, bound MAC, hotspot or not).
#[derive(Debug, Clone)]
pub struct NasSeed {
    /// The router.
    pub router_id: i64,
    /// Its RADIUS secret.
    pub secret: String,
    /// Its customers.
    pub subscribers: Vec<simnas::Subscriber>,
}

/// Why seeding stopped.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// A value the seeder made is invalid (a bug in the seeder).
    #[error("seed data: {0}")]
    Data(String),
    /// The store refused.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// Password hashing failed.
    #[error("password hashing: {0}")]
    Hash(String),
}

fn data<T, E: std::fmt::Display>(r: Result<T, E>) -> Result<T, SeedError> {
    r.map_err(|e| SeedError::Data(e.to_string()))
}

/// First names of the seeded customers (the bench draws name searches from them).
pub const FIRST: &[&str] = &[
    "Abdul", "Ayesha", "Farhana", "Imran", "Jamal", "Kamal", "Nasrin", "Rahim", "Rashida",
    "Sabbir", "Shirin", "Tanvir", "Mitu", "Nadia", "Sumon", "Rakib", "Ruma", "Habib", "Sadia",
    "Arif",
];
/// Last names of the seeded customers.
pub const LAST: &[&str] = &[
    "Ahmed",
    "Hossain",
    "Rahman",
    "Islam",
    "Khan",
    "Chowdhury",
    "Akter",
    "Begum",
    "Uddin",
    "Sarkar",
    "Das",
    "Roy",
];

fn person(rng: &mut impl rand::Rng, n: usize) -> String {
    format!(
        "{} {} {n}",
        FIRST[rng.random_range(0..FIRST.len())],
        LAST[rng.random_range(0..LAST.len())]
    )
}

/// The tenant of a seed: Bangladesh, taka, Dhaka time.
fn new_tenant(name: &str, realm: &str) -> Result<NewTenant, SeedError> {
    Ok(NewTenant {
        settings: Settings {
            realm: Some(data(Realm::parse(realm))?),
            ..Settings::default()
        },
        name: name.to_owned(),
        country: data(CountryCode::parse("country", "BD"))?,
        currency: data(CurrencyCode::parse("currency", "BDT"))?,
        time_zone: data(TimeZoneName::parse("time_zone", "Asia/Dhaka"))?,
    })
}

fn service(
    connection: ConnectionType,
    down_mbps: u32,
    up_mbps: u32,
    days: i64,
    pool: Option<i64>,
) -> Result<ServiceRow, SeedError> {
    let rate = RateLimit::parse(
        i64::from(down_mbps) * 1000,
        i64::from(up_mbps) * 1000,
        BurstInput::default(),
    )
    .map_err(|e| SeedError::Data(e.to_string()))?;
    Ok(ServiceRow {
        connection_type: connection,
        rate,
        volume_bytes: None,
        fup: domain::fup::Fup::none(),
        validity_minutes: days * 1440,
        ip_pool_id: pool,
    })
}

/// Creates the staff of one tenant, all with the same made-up password.
struct Staff<'a> {
    hasher: &'a ops::auth::password::Hasher,
    tenant: TenantId,
    password: &'a str,
}

impl Staff<'_> {
    async fn add(
        &self,
        w: &mut store::Write,
        role: Role,
        parent: Option<UserId>,
        email: &str,
        name: &str,
    ) -> Result<UserId, SeedError> {
        let hash = self
            .hasher
            .hash(self.password)
            .await
            .map_err(|e| SeedError::Hash(e.to_string()))?;
        let row = store::user::NewUserRow {
            email: data(Email::parse(email))?,
            name: name.to_owned(),
            role,
            tenant_id: Some(self.tenant),
            parent_id: parent,
            permissions: PermissionSet::EMPTY,
            password_hash: hash,
        };
        Ok(UserId(store::user::create(w, &row).await?.id))
    }
}

/// Builds the demo ISP: an Admin, two operators (one with two sub-operators), a manager,
/// packages at all three levels, pools, zones, routers, and `customers` customers in every
/// status and billing type. Passwords are made up and returned. With `nas`, the first
/// router is this machine (RADIUS from 127.0.0.1, the API of a simulated router), and its
/// customers are returned for a simulated NAS to log in.
pub async fn demo(
    db: &Db,
    hasher: &ops::auth::password::Hasher,
    now: DateTime<Utc>,
    customers: usize,
    nas: Option<&DemoNas>,
) -> Result<Seeded, SeedError> {
    let mut rng = rand::rngs::StdRng::from_rng(&mut rand::rng());
    let password = ops::customer::random_password() + "-Demo";
    let mut w = db.write(Author::system("demo"), now).await?;
    let tenant =
        store::tenant::create(&mut w, &new_tenant("Padma Fiber Net", "padma")?, None).await?;
    let tenant_id = TenantId(tenant.id);
    let mut seeded = Seeded {
        tenant_id: tenant.id,
        ..Seeded::default()
    };
    let mut account = |role: &str, email: &str| {
        seeded
            .accounts
            .push((role.to_owned(), email.to_owned(), password.clone()))
    };
    let staff = Staff {
        hasher,
        tenant: tenant_id,
        password: &password,
    };
    let admin = staff
        .add(
            &mut w,
            Role::Admin,
            None,
            "admin@padma.example",
            "Padma Admin",
        )
        .await?;
    account("admin", "admin@padma.example");
    seeded.admin_id = admin.0;
    let op_north = staff
        .add(
            &mut w,
            Role::Operator,
            None,
            "north@padma.example",
            "North Link",
        )
        .await?;
    account("operator", "north@padma.example");
    let op_south = staff
        .add(
            &mut w,
            Role::Operator,
            None,
            "south@padma.example",
            "South Net",
        )
        .await?;
    let sub_a = staff
        .add(
            &mut w,
            Role::SubOperator,
            Some(op_north),
            "mirpur@padma.example",
            "Mirpur Cable",
        )
        .await?;
    account("sub_operator", "mirpur@padma.example");
    let sub_b = staff
        .add(
            &mut w,
            Role::SubOperator,
            Some(op_north),
            "uttara@padma.example",
            "Uttara Wifi",
        )
        .await?;
    staff
        .add(
            &mut w,
            Role::Manager,
            None,
            "manager@padma.example",
            "Desk Manager",
        )
        .await?;
    staff
        .add(
            &mut w,
            Role::Accountant,
            None,
            "accounts@padma.example",
            "Accounts",
        )
        .await?;

    let mut zones = Vec::new();
    let city = store::network::create_zone(&mut w, tenant_id, "Dhaka", None).await?;
    for name in ["Mirpur", "Uttara", "Dhanmondi", "Gulshan"] {
        zones.push(
            store::network::create_zone(&mut w, tenant_id, name, Some(city.id))
                .await?
                .id,
        );
    }
    let mut routers = Vec::new();
    let mut addresses = Vec::new();
    for (i, name) in ["core-mirpur", "core-uttara", "edge-gulshan"]
        .iter()
        .enumerate()
    {
        let simulated = nas.filter(|_| i == 0);
        let nas_address = match simulated {
            Some(_) => std::net::IpAddr::from([127, 0, 0, 1]),
            None => std::net::IpAddr::from([10, 255, 0, u8::try_from(i + 1).unwrap_or(1)]),
        };
        let secret = ops::network::random_secret();
        if simulated.is_some() {
            seeded.nas = Some(NasSeed {
                router_id: 0,
                secret: secret.clone(),
                subscribers: Vec::new(),
            });
        }
        let new = store::network::NewRouter {
            tenant_id,
            name: (*name).to_owned(),
            nas_address,
            secret,
            api_address: Some(nas_address.to_string()),
            api_port: simulated.map_or(8728, |n| n.api_port),
            api_user: Some("lastmile".to_owned()),
            api_password: Some(
                simulated.map_or_else(ops::network::random_secret, |n| n.api_password.clone()),
            ),
            api_tls: false,
            api_tls_trust: domain::network::router::TlsTrust::System,
            time_zone: Some("Asia/Dhaka".to_owned()),
            notes: String::new(),
            require_message_authenticator: true,
        };
        let created = store::network::create_router(&mut w, &new).await?;
        if let (Some(_), Some(seed)) = (simulated, seeded.nas.as_mut()) {
            seed.router_id = created.id;
        }
        routers.push(created.id);
        addresses.push((created.id, created.nas_address));
    }
    let home = store::network::create_pool(
        &mut w,
        tenant_id,
        "home-pool",
        &data(Pool::parse("100.64.0.1-100.64.15.254"))?,
    )
    .await?;
    let hotspot = store::network::create_pool(
        &mut w,
        tenant_id,
        "hotspot-pool",
        &data(Pool::parse("172.16.0.0/20"))?,
    )
    .await?;
    let fixed = store::network::create_pool(
        &mut w,
        tenant_id,
        "static-pool",
        &data(Pool::parse("203.0.113.0/26"))?,
    )
    .await?;
    store::network::create_pool(
        &mut w,
        tenant_id,
        "suspended",
        &data(Pool::parse("10.99.0.0/24"))?,
    )
    .await?;

    let masters = [
        (
            "Home 10M",
            ConnectionType::Pppoe,
            10,
            5,
            30,
            50_000,
            Some(home.id),
        ),
        (
            "Home 25M",
            ConnectionType::Pppoe,
            25,
            10,
            30,
            80_000,
            Some(home.id),
        ),
        (
            "Business 50M",
            ConnectionType::Pppoe,
            50,
            25,
            30,
            200_000,
            Some(home.id),
        ),
        (
            "Hotspot Day",
            ConnectionType::Hotspot,
            5,
            2,
            1,
            3_000,
            Some(hotspot.id),
        ),
        (
            "Hotspot Week",
            ConnectionType::Hotspot,
            8,
            4,
            7,
            15_000,
            Some(hotspot.id),
        ),
        (
            "Static 20M",
            ConnectionType::StaticIp,
            20,
            20,
            30,
            150_000,
            None,
        ),
    ];
    let mut master_packages = Vec::new();
    for (name, ct, down, up, days, price, pool) in masters {
        let mut service = service(ct, down, up, days, pool)?;
        if name == "Home 25M" {
            // Fair usage: 1 TB a month, slowed to 5M/2M after 400 GB.
            let step = domain::fup::FupStepInput {
                after_bytes: 400_000_000_000,
                download_kbps: 5_000,
                upload_kbps: 2_000,
            };
            service.volume_bytes = Some(1_000_000_000_000);
            service.fup = domain::fup::Fup::parse(&[step], &service.rate, service.volume_bytes)
                .map_err(|e| SeedError::Data(e.to_string()))?;
        }
        let new = NewMaster {
            tenant_id,
            name: name.to_owned(),
            service,
            price: data(Money::from_minor("price", price))?,
        };
        master_packages.push(store::package::create_master(&mut w, &new).await?);
    }
    let derive = |parent: &Package, owner: UserId, price: i64, cost: i64| NewDerived {
        parent: parent.clone(),
        owner,
        name: format!("{} ({})", parent.name, owner.0),
        price: Money::from_minor("price", price).unwrap_or(Money::ZERO),
        cost_price: Money::from_minor("cost_price", cost).unwrap_or(Money::ZERO),
    };
    let mut operator_packages: Vec<(Owner, Package)> = Vec::new();
    for op in [op_north, op_south] {
        for master in &master_packages {
            let p = store::package::create_derived(
                &mut w,
                &derive(master, op, master.price + 5_000, master.price - 5_000),
            )
            .await?;
            operator_packages.push((
                Owner::Operator {
                    tenant: tenant_id,
                    operator: op,
                },
                p,
            ));
        }
    }
    let mut sub_packages: Vec<(Owner, Package)> = Vec::new();
    for sub in [sub_a, sub_b] {
        for (_, parent) in operator_packages
            .iter()
            .filter(|(o, _)| o.operator() == Some(op_north))
        {
            let p = store::package::create_derived(
                &mut w,
                &derive(parent, sub, parent.price + 3_000, parent.price),
            )
            .await?;
            sub_packages.push((
                Owner::SubOperator {
                    tenant: tenant_id,
                    operator: Some(op_north),
                    sub_operator: sub,
                },
                p,
            ));
        }
    }
    w.commit().await?;

    // Customers, spread over owners, packages, statuses and billing types.
    let mut offers: Vec<(Owner, Package)> = master_packages
        .iter()
        .map(|p| (Owner::Tenant(tenant_id), p.clone()))
        .collect();
    offers.extend(operator_packages);
    offers.extend(sub_packages);
    let bd = data(CountryCode::parse("country", "BD"))?;
    let mut w = db.write(Author::system("demo"), now).await?;
    let mut made = Vec::with_capacity(customers);
    for n in 0..customers {
        let (owner, package) = offers[n % offers.len()].clone();
        let connection = package.connection_type.get();
        let mobile = data(Msisdn::parse(&format!("0171{:07}", 1_000_000 + n), &bd))?;
        let username = match connection {
            ConnectionType::Hotspot => format!("{}@padma", mobile.digits()),
            _ => format!("{}{n}", FIRST[n % FIRST.len()].to_lowercase()),
        };
        let billing = match n % 10 {
            0 => BillingType::Free,
            1..=3 => BillingType::Postpaid,
            _ => BillingType::Prepaid,
        };
        let status = match n % 17 {
            0 => CustomerStatus::Disabled,
            1 | 2 => CustomerStatus::Suspended,
            _ => CustomerStatus::Active,
        };
        // A spread of expiries: long gone, today, soon, later.
        let expires_at = match billing {
            BillingType::Prepaid => {
                Some(now + TimeDelta::hours(rng.random_range(-24 * 20..24 * 40)))
            }
            _ => None,
        };
        let static_ip =
            (connection == ConnectionType::StaticIp).then_some(domain::customer::StaticIp {
                pool_id: fixed.id,
                address: None,
            });
        let new = NewCustomer {
            owner,
            package_id: package.id,
            connection_type: connection,
            billing_type: billing,
            name: person(&mut rng, n),
            mobile: Some(mobile),
            email: None,
            address: format!("House {}, Road {}, Dhaka", n % 97 + 1, n % 13 + 1),
            zone_id: Some(zones[n % zones.len()]),
            router_id: Some(routers[n % routers.len()]),
            username: data(Username::parse(&username))?,
            password: data(PppPassword::parse(
                "password",
                &ops::customer::random_password(),
            ))?,
            status,
            expires_at,
            static_ip,
            ip_pool_id: None,
            mac: (n % 5 == 0)
                .then(|| {
                    MacAddr::parse(&format!(
                        "02:00:00:{:02x}:{:02x}:{:02x}",
                        (n >> 16) & 0xff,
                        (n >> 8) & 0xff,
                        n & 0xff
                    ))
                })
                .flatten(),
            simultaneous_use: 1,
            comment: String::new(),
        };
        made.push(store::customer::create(&mut w, &new).await?);
        seeded.customers += 1;
    }
    w.commit().await?;
    // Most customers in service online, with a week of usage behind them.
    let online = sessions::Online {
        percent: 70,
        history_days: 7,
    };
    sessions::record(db, &made, &addresses, now, online, &mut rng).await?;
    // Resellers with balances, a credit line, and recharges.
    let people = money::Resellers {
        tenant: tenant_id,
        admin,
        operators: vec![op_north, op_south],
        sub_operators: vec![(sub_a, op_north), (sub_b, op_north)],
    };
    let money = money::seed(db, hasher, now, &people, &made, &mut rng).await?;
    seeded.recharges = money.recharges;
    seeded.invoices = money.invoices;
    seeded.payments = money.payments;
    if let Some(seed) = seeded.nas.as_mut() {
        for c in made.iter().filter(|c| c.router_id == Some(seed.router_id)) {
            let hotspot = c.connection_type.get() == ConnectionType::Hotspot;
            if !hotspot && c.connection_type.get() != ConnectionType::Pppoe {
                continue;
            }
            seed.subscribers.push(simnas::Subscriber {
                username: c.username.clone(),
                password: store::customer::password(db.keyring(), c)?.to_string(),
                mac: c.mac.clone(),
                hotspot,
            });
        }
    }
    Ok(seeded)
}
