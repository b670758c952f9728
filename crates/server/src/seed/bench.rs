//! The benchmark tenant: a large synthetic ISP shaped like a real one rather than a uniform
//! grid, so that a list query planned for the uniform case cannot pass for a fast one:
//!
//! - a reseller tree: ten operators, the first five with two sub-operators each, the rest
//!   of the customers the tenant's own;
//! - skewed offers: seven master packages (PPPoE and hotspot) and each reseller's own, drawn
//!   with Zipf weights, so a few packages hold most customers and many hold a handful;
//! - four areas of four zones each, the zones Zipf-weighted, and the home router following
//!   the zone nine times in ten (routers and zones correlate, as they do on a real network);
//! - every status and billing type in realistic shares, expiries from ten days past to a
//!   month ahead (a quarter expired, a few percent expiring today), MACs on a quarter and
//!   mobiles on most customers, both scattered rather than rising with the id;
//! - user names sharing prefixes (the seed's stamp, then the area), names drawn from a
//!   short list of first and last names;
//! - seven in ten customers in service online (`--online PERCENT` sets the share), each
//!   with one session on its router (with the traffic of an Interim-Update):
//!   `seed::sessions`.
//!
//! With `--with-staff` the tenant also gets an Admin and sign-in-able operators and
//! sub-operators, all with one made-up password that is printed once.

use chrono::{DateTime, TimeDelta, Utc};
use rand::{RngExt as _, SeedableRng as _};

use domain::access::{Owner, PermissionSet, Role};
use domain::customer::NewCustomer;
use domain::customer::{BillingType, CustomerStatus, Msisdn, PppPassword, Username};
use domain::ids::{TenantId, UserId};
use domain::locale::CountryCode;
use domain::money::Money;
use domain::network::{MacAddr, Pool};
use domain::package::ConnectionType;
use domain::user::Email;
use store::package::{NewDerived, NewMaster};
use store::{Author, Db};

use super::{SeedError, Seeded, Staff, data, new_tenant, person, service};

/// Areas and the zones inside each.
const AREAS: [(&str, [&str; 4]); 4] = [
    ("Mirpur", ["Mirpur-1", "Mirpur-2", "Mirpur-10", "Pallabi"]),
    ("Uttara", ["Sector-3", "Sector-7", "Sector-11", "Diabari"]),
    ("Dhanmondi", ["Road-2", "Road-8", "Road-27", "Jigatola"]),
    ("Gulshan", ["Gulshan-1", "Gulshan-2", "Banani", "Baridhara"]),
];

/// Operators, and how many of the first ones have two sub-operators.
const OPERATORS: usize = 10;
const WITH_SUBS: usize = 5;

/// Draws indexes `0..n` with Zipf weights `1 / (i + 1)^s`: index 0 the most often.
struct Skewed {
    cumulative: Vec<f64>,
}

impl Skewed {
    fn new(n: usize, s: f64) -> Self {
        let mut total = 0.0;
        let cumulative = (0..n)
            .map(|i| {
                total += 1.0 / ((i + 1) as f64).powf(s);
                total
            })
            .collect();
        Self { cumulative }
    }

    fn draw(&self, rng: &mut impl rand::Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let x = rng.random::<f64>() * total;
        self.cumulative
            .partition_point(|c| *c < x)
            .min(self.cumulative.len().saturating_sub(1))
    }
}

/// The `n`th customer's mobile digits after `017`: distinct for every `n` below 10^8 and
/// scattered (a multiplication by a number prime to 10^8), as real numbers are, rather than
/// rising with the customer's id.
fn scatter_mobile(n: usize) -> u64 {
    (n as u64).wrapping_mul(48_271).wrapping_add(12_345_678) % 100_000_000
}

/// The `n`th customer's MAC bytes: distinct for every `n` below 2^32, scattered likewise.
fn scatter_mac(n: usize) -> u32 {
    (n as u32).wrapping_mul(2_654_435_761)
}

/// One reseller's offers: its owner and its packages (id, connection type), most popular
/// first.
struct Offers {
    owner: Owner,
    packages: Vec<(i64, ConnectionType)>,
}

/// What [`bench`] seeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Customers.
    pub customers: usize,
    /// Customers per transaction.
    pub batch: usize,
    /// Sign-in-able staff with one made-up password, returned in [`Seeded::accounts`].
    pub staff: bool,
    /// Percent of the customers in service who are online.
    pub online_percent: u32,
}

impl Shape {
    /// `customers` customers in batches of 2 000, no staff, seven in ten in service online.
    pub fn of(customers: usize) -> Shape {
        Shape {
            customers,
            batch: 2_000,
            staff: false,
            online_percent: 70,
        }
    }
}

/// Adds a benchmark tenant of `shape` (see the module header).
pub async fn bench(
    db: &Db,
    hasher: &ops::auth::password::Hasher,
    now: DateTime<Utc>,
    shape: Shape,
    progress: impl Fn(usize),
) -> Result<Seeded, SeedError> {
    let Shape {
        customers,
        batch,
        staff,
        online_percent,
    } = shape;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let stamp = now.timestamp();
    let mut w = db.write(Author::system("bench"), now).await?;
    let tenant = store::tenant::create(
        &mut w,
        &new_tenant(&format!("Bench ISP {stamp}"), &format!("bench-{stamp}"))?,
        None,
    )
    .await?;
    let tenant_id = TenantId(tenant.id);
    let mut seeded = Seeded {
        tenant_id: tenant.id,
        ..Seeded::default()
    };
    let password = ops::customer::random_password() + "-Bench";
    let people = Staff {
        hasher,
        tenant: tenant_id,
        password: &password,
    };
    // Staff that never signs in gets an impossible hash (no password to guess, no hashing).
    let mut add_staff = async |w: &mut store::Write,
                               role: Role,
                               parent: Option<UserId>,
                               email: String,
                               name: String|
           -> Result<UserId, SeedError> {
        if staff {
            seeded
                .accounts
                .push((role.as_str().to_owned(), email.clone(), password.clone()));
            return people.add(w, role, parent, &email, &name).await;
        }
        let row = store::user::NewUserRow {
            email: data(Email::parse(&email))?,
            name,
            role,
            tenant_id: Some(tenant_id),
            parent_id: parent,
            permissions: PermissionSet::EMPTY,
            password_hash: "!".to_owned(),
        };
        Ok(UserId(store::user::create(w, &row).await?.id))
    };
    add_staff(
        &mut w,
        Role::Admin,
        None,
        format!("admin@bench-{stamp}.example"),
        "Bench Admin".to_owned(),
    )
    .await?;

    let home = store::network::create_pool(
        &mut w,
        tenant_id,
        "bench-home",
        &data(Pool::parse("100.64.0.0/10"))?,
    )
    .await?;
    let hotspot = store::network::create_pool(
        &mut w,
        tenant_id,
        "bench-hotspot",
        &data(Pool::parse("172.16.0.0/12"))?,
    )
    .await?;
    let masters = [
        ("Home 10M", ConnectionType::Pppoe, 10, 50_000, 30, home.id),
        ("Home 20M", ConnectionType::Pppoe, 20, 60_000, 30, home.id),
        ("Home 5M", ConnectionType::Pppoe, 5, 40_000, 30, home.id),
        (
            "Hotspot Day",
            ConnectionType::Hotspot,
            5,
            3_000,
            1,
            hotspot.id,
        ),
        ("Home 40M", ConnectionType::Pppoe, 40, 90_000, 30, home.id),
        (
            "Hotspot Week",
            ConnectionType::Hotspot,
            8,
            15_000,
            7,
            hotspot.id,
        ),
        (
            "Business 100M",
            ConnectionType::Pppoe,
            100,
            250_000,
            30,
            home.id,
        ),
    ];
    let mut master_packages = Vec::new();
    for (name, connection, mbps, price, days, pool) in masters {
        let new = NewMaster {
            tenant_id,
            name: format!("Bench {name}"),
            service: service(connection, mbps, mbps / 2, days, Some(pool))?,
            price: data(Money::from_minor("price", price))?,
        };
        master_packages.push(store::package::create_master(&mut w, &new).await?);
    }
    let derive = |parent: &store::package::Package, owner: UserId, name: String| NewDerived {
        parent: parent.clone(),
        owner,
        name,
        price: Money::from_minor("price", parent.price + 5_000).unwrap_or(Money::ZERO),
        cost_price: Money::from_minor("cost_price", parent.price - 5_000).unwrap_or(Money::ZERO),
    };
    let connection_of = |p: &store::package::Package| p.connection_type.get();
    let mut resellers = vec![Offers {
        owner: Owner::Tenant(tenant_id),
        packages: master_packages
            .iter()
            .map(|p| (p.id, connection_of(p)))
            .collect(),
    }];
    for i in 0..OPERATORS {
        let op = add_staff(
            &mut w,
            Role::Operator,
            None,
            format!("op{i}@bench-{stamp}.example"),
            format!("Bench Operator {i}"),
        )
        .await?;
        let mut own = Vec::new();
        // Each operator sells the first few masters, the bigger ones more of them.
        for master in master_packages.iter().take(7 - i / 2) {
            let name = format!("{} op{i}", master.name);
            own.push(store::package::create_derived(&mut w, &derive(master, op, name)).await?);
        }
        resellers.push(Offers {
            owner: Owner::Operator {
                tenant: tenant_id,
                operator: op,
            },
            packages: own.iter().map(|p| (p.id, connection_of(p))).collect(),
        });
        if i >= WITH_SUBS {
            continue;
        }
        for j in 0..2 {
            let sub = add_staff(
                &mut w,
                Role::SubOperator,
                Some(op),
                format!("sub{i}-{j}@bench-{stamp}.example"),
                format!("Bench Sub-operator {i}-{j}"),
            )
            .await?;
            let mut theirs = Vec::new();
            for parent in own.iter().take(3) {
                let name = format!("{} sub{i}-{j}", parent.name);
                theirs.push(
                    store::package::create_derived(&mut w, &derive(parent, sub, name)).await?,
                );
            }
            resellers.push(Offers {
                owner: Owner::SubOperator {
                    tenant: tenant_id,
                    operator: Some(op),
                    sub_operator: sub,
                },
                packages: theirs.iter().map(|p| (p.id, connection_of(p))).collect(),
            });
        }
    }

    let mut zones = Vec::new();
    for (area, inner) in AREAS {
        let top = store::network::create_zone(&mut w, tenant_id, area, None).await?;
        for name in inner {
            let zone = store::network::create_zone(&mut w, tenant_id, name, Some(top.id)).await?;
            zones.push((zone.id, area.to_lowercase()));
        }
    }
    let mut routers = Vec::new();
    for (i, (_, area)) in zones.iter().enumerate() {
        let i = u8::try_from(i).unwrap_or(0);
        let router = store::network::NewRouter {
            tenant_id,
            name: format!("bench-{area}-{i}"),
            nas_address: std::net::IpAddr::from([10, 200, (stamp % 250) as u8, i + 1]),
            secret: ops::network::random_secret(),
            api_address: None,
            api_port: 8728,
            api_user: None,
            api_password: None,
            api_tls: false,
            api_tls_trust: domain::network::router::TlsTrust::System,
            time_zone: None,
            notes: String::new(),
            require_message_authenticator: true,
        };
        let created = store::network::create_router(&mut w, &router).await?;
        routers.push((created.id, created.nas_address));
    }
    w.commit().await?;

    // The tenant keeps a third of the customers; the resellers share the rest, the first
    // operators and their sub-operators the most.
    let reseller = Skewed::new(resellers.len() - 1, 1.0);
    let package_of = resellers
        .iter()
        .map(|r| Skewed::new(r.packages.len(), 1.2))
        .collect::<Vec<_>>();
    let zone = Skewed::new(zones.len(), 0.8);
    let bd = data(CountryCode::parse("country", "BD"))?;
    let ppp_password = data(PppPassword::parse("password", "bench-pass"))?;
    let mut made = 0;
    while made < customers {
        let take = batch.min(customers - made);
        let mut rows = Vec::with_capacity(take);
        for n in made..made + take {
            let r = if rng.random_range(0..3) == 0 {
                0
            } else {
                1 + reseller.draw(&mut rng)
            };
            let offers = &resellers[r];
            let (package_id, connection) = offers.packages[package_of[r].draw(&mut rng)];
            let z = zone.draw(&mut rng);
            let (zone_id, area) = &zones[z];
            let router = if rng.random_range(0..10) == 0 {
                rng.random_range(0..routers.len())
            } else {
                z
            };
            let mobile = data(Msisdn::parse(&format!("017{:08}", scatter_mobile(n)), &bd))?;
            let username = match connection {
                ConnectionType::Hotspot => format!("{}@bench{stamp}", mobile.digits()),
                _ => format!("b{stamp}{area}{n}"),
            };
            let billing = match rng.random_range(0..100) {
                0..=83 => BillingType::Prepaid,
                84..=97 => BillingType::Postpaid,
                _ => BillingType::Free,
            };
            let status = match rng.random_range(0..100) {
                0..=5 => CustomerStatus::Suspended,
                6..=8 => CustomerStatus::Disabled,
                _ => CustomerStatus::Active,
            };
            let expires_at = (billing == BillingType::Prepaid)
                .then(|| now + TimeDelta::minutes(rng.random_range(-10 * 1440..30 * 1440)));
            rows.push(NewCustomer {
                owner: offers.owner,
                package_id,
                connection_type: connection,
                billing_type: billing,
                name: person(&mut rng, n),
                mobile: (n % 5 != 0).then_some(mobile),
                email: None,
                address: String::new(),
                zone_id: Some(*zone_id),
                router_id: Some(routers[router].0),
                username: data(Username::parse(&username))?,
                password: ppp_password.clone(),
                status,
                expires_at,
                static_ip: None,
                ip_pool_id: None,
                mac: (n % 4 == 0)
                    .then(|| {
                        let [a, b, c, d] = scatter_mac(n).to_be_bytes();
                        MacAddr::parse(&format!("02:{a:02x}:{b:02x}:{c:02x}:{d:02x}:00"))
                    })
                    .flatten(),
                simultaneous_use: 1,
                comment: String::new(),
            });
        }
        let mut w = db.write(Author::system("bench"), now).await?;
        let created = store::customer::create_many(&mut w, tenant_id, &rows).await?;
        w.commit().await?;
        let online = super::sessions::Online {
            percent: online_percent,
            history_days: 0,
        };
        super::sessions::record(db, &created, &routers, now, online, &mut rng).await?;
        made += take;
        progress(made);
    }
    seeded.customers = made;
    Ok(seeded)
}
