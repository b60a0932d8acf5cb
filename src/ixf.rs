//! The IX-F Member Export, JSON schema version 1.0 (Euro-IX
//! `ixp-member-list-1.0.schema.json`), built from the peering LAN data.
//! A pure function: the route loads the rows and decides on contacts.
use crate::db::connections::Connection;
use crate::db::lans::{Ixp, Lan};
use crate::db::models::Customer;
use crate::domain::{CustomerStatus, CustomerType};
use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// The `ixp_id` of our single IXP inside the export.
pub const IXP_ID: i64 = 1;

/// Does the export list this customer? Members that are current (not
/// cancelled), in normal status, and of a type that peers (full or
/// probono); associates, the IXP's internal networks, suspended and
/// not-connected customers are left out.
pub fn is_active(c: &Customer, today: NaiveDate) -> bool {
    !c.is_cancelled(today)
        && c.status == CustomerStatus::Normal
        && matches!(c.cust_type, CustomerType::Full | CustomerType::ProBono)
}

/// Everything the export is made of.
pub struct ExportData<'a> {
    pub ixp: &'a Ixp,
    pub lans: &'a [Lan],
    pub customers: &'a [Customer],
    pub connections: &'a [Connection],
    /// Contact emails by customer id; `None` for anonymous callers.
    pub contacts: Option<&'a HashMap<i64, Vec<String>>>,
    pub now: NaiveDateTime,
    pub today: NaiveDate,
}

fn timestamp(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn split_prefix(p: &crate::domain::Prefix) -> Value {
    json!({"prefix": p.network().to_string(), "mask_length": p.prefix_len()})
}

fn family_entry(
    address: &Option<String>,
    c: &Connection,
    max_prefix: Option<i32>,
) -> Option<Value> {
    let address = address.as_ref()?;
    let mut o = Map::new();
    o.insert("address".into(), json!(address));
    if let Some(s) = &c.as_set {
        o.insert("as_macro".into(), json!(s));
    }
    if let Some(m) = max_prefix {
        o.insert("max_prefix".into(), json!(m));
    }
    o.insert("routeserver".into(), json!(c.rs_client));
    o.insert("mac_addresses".into(), json!(c.macs()));
    Some(Value::Object(o))
}

/// The export document.
pub fn export(d: &ExportData<'_>) -> Value {
    let vlan_of: HashMap<i64, i32> = d.lans.iter().map(|l| (l.id, l.vlan_id)).collect();
    let mut ixp = Map::new();
    ixp.insert("ixp_id".into(), json!(IXP_ID));
    ixp.insert("ixf_id".into(), json!(d.ixp.ixf_id.unwrap_or(0)));
    ixp.insert("shortname".into(), json!(d.ixp.shortname));
    ixp.insert("name".into(), json!(d.ixp.name));
    ixp.insert("country".into(), json!(d.ixp.country));
    if let Some(p) = d.ixp.peeringdb_ix_id {
        ixp.insert("peeringdb_id".into(), json!(p));
    }
    ixp.insert("support_email".into(), json!(d.ixp.support_email));
    ixp.insert(
        "peering_policy_list".into(),
        json!(["open", "selective", "closed"]),
    );
    let vlans: Vec<Value> = d
        .lans
        .iter()
        .map(|l| {
            let mut v = Map::new();
            v.insert("id".into(), json!(l.vlan_id));
            v.insert("name".into(), json!(l.name));
            if let Some(p) = l.v4() {
                v.insert("ipv4".into(), split_prefix(&p));
            }
            if let Some(p) = l.v6() {
                v.insert("ipv6".into(), split_prefix(&p));
            }
            Value::Object(v)
        })
        .collect();
    ixp.insert("vlan".into(), Value::Array(vlans));

    let mut by_customer: HashMap<i64, Vec<&Connection>> = HashMap::new();
    for c in d.connections {
        by_customer.entry(c.customer_id).or_default().push(c);
    }
    let mut members: Vec<&Customer> = d
        .customers
        .iter()
        .filter(|c| is_active(c, d.today))
        .collect();
    members.sort_by_key(|c| (c.autsys, c.id));
    let member_list: Vec<Value> = members
        .into_iter()
        .map(|cu| {
            let mut m = Map::new();
            m.insert("asnum".into(), json!(cu.autsys));
            m.insert("member_type".into(), json!("peering"));
            m.insert("name".into(), json!(cu.name));
            if let Some(j) = cu.date_joined {
                m.insert(
                    "member_since".into(),
                    json!(format!("{}T00:00:00Z", j.format("%Y-%m-%d"))),
                );
            }
            if let Some(emails) = d.contacts.and_then(|c| c.get(&cu.id))
                && !emails.is_empty()
            {
                m.insert("contact_email".into(), json!(emails));
            }
            let connection_list: Vec<Value> = by_customer
                .get(&cu.id)
                .map(|list| {
                    list.iter()
                        .map(|c| {
                            let mut vlan = Map::new();
                            vlan.insert(
                                "vlan_id".into(),
                                json!(vlan_of.get(&c.lan_id).copied().unwrap_or(0)),
                            );
                            if let Some(v4) = family_entry(&c.ipv4_address, c, c.max_prefixes_v4) {
                                vlan.insert("ipv4".into(), v4);
                            }
                            if let Some(v6) = family_entry(&c.ipv6_address, c, c.max_prefixes_v6) {
                                vlan.insert("ipv6".into(), v6);
                            }
                            json!({
                                "ixp_id": IXP_ID,
                                "state": "active",
                                "if_list": [{"if_speed": c.speed_mbps}],
                                "vlan_list": [Value::Object(vlan)],
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            m.insert("connection_list".into(), Value::Array(connection_list));
            Value::Object(m)
        })
        .collect();
    json!({
        "version": "1.0",
        "timestamp": timestamp(d.now),
        "ixp_list": [Value::Object(ixp)],
        "member_list": member_list,
    })
}
