//! The loader reads the dictionaries FreeRADIUS 3.2 installs (Debian's `freeradius-common`)
//! and agrees with the built-in dictionary where both define an attribute.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use std::path::Path;

use radius::Dictionary;
use radius::attr::AttrId;

const FREERADIUS_DICTIONARY: &str = "/usr/share/freeradius/dictionary";

fn freeradius_dictionary() -> Dictionary {
    assert!(
        Path::new(FREERADIUS_DICTIONARY).exists(),
        "FreeRADIUS dictionaries are missing: install the Debian package freeradius-common"
    );
    let mut dict = Dictionary::new();
    dict.load_file(Path::new(FREERADIUS_DICTIONARY))
        .unwrap_or_else(|err| panic!("loading {FREERADIUS_DICTIONARY}: {err}"));
    dict
}

#[test]
fn the_whole_freeradius_dictionary_tree_loads() {
    let dict = freeradius_dictionary();
    assert!(dict.len() > 5000, "only {} attributes", dict.len());
    assert!(
        dict.vendor_count() > 150,
        "only {} vendors",
        dict.vendor_count()
    );
    assert_eq!(
        dict.attribute("Mikrotik-Rate-Limit").map(|d| d.id),
        Some(AttrId::vendor(14988, 8))
    );
    assert_eq!(
        dict.attribute("Acct-Status-Type")
            .and_then(|d| d.value_name(3)),
        Some("Interim-Update")
    );
    assert!(dict.is_nested("Frag-Status"));
}

#[test]
fn the_builtin_dictionary_agrees_with_freeradius_on_shared_attributes() {
    let freeradius = freeradius_dictionary();
    let builtin = Dictionary::builtin();
    let mut compared = 0;
    for name in [
        "User-Name",
        "User-Password",
        "CHAP-Password",
        "NAS-Port-Type",
        "Acct-Input-Gigawords",
        "Event-Timestamp",
        "Tunnel-Password",
        "Error-Cause",
        "Framed-IPv6-Prefix",
        "Delegated-IPv6-Prefix",
        "Framed-IPv6-Address",
        "MS-CHAP2-Success",
        "MS-MPPE-Send-Key",
        "Mikrotik-Total-Limit-Gigawords",
        "Mikrotik-Switching-Filter",
        "WISPr-Bandwidth-Max-Down",
        "WISPr-Billing-Class-Of-Service",
    ] {
        let ours = builtin
            .attribute(name)
            .unwrap_or_else(|| panic!("builtin lacks {name}"));
        let theirs = freeradius
            .attribute(name)
            .unwrap_or_else(|| panic!("FreeRADIUS lacks {name}"));
        assert_eq!(ours.id, theirs.id, "{name}");
        assert_eq!(ours.data_type, theirs.data_type, "{name}");
        assert_eq!(ours.has_tag, theirs.has_tag, "{name}");
        assert_eq!(ours.encryption, theirs.encryption, "{name}");
        compared += 1;
    }
    assert_eq!(compared, 17);
}
