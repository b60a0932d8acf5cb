//! Sample peering LAN data for `ixp-portal demo`: the IXP record, one LAN,
//! two route servers and connections for the eligible sample members.
use crate::admin::peering::{self, ConnectionInput, IxpInput, LanInput, RouteServerInput};
use crate::db::{DbConnection, audit::ACTOR_CLI, customers};

pub fn seed(conn: &mut DbConnection) -> anyhow::Result<()> {
    let err = |e: crate::admin::AdminError| anyhow::anyhow!("demo peering data: {e}");
    peering::set_ixp(
        conn,
        ACTOR_CLI,
        &IxpInput {
            name: "Example Internet Exchange".into(),
            shortname: "EX-IX".into(),
            ixf_id: "9999".into(),
            peeringdb_ix_id: "9999".into(),
            country: "NL".into(),
            support_email: "noc@ixp.example".into(),
        },
    )
    .map_err(err)?;
    let lan = peering::save_lan(
        conn,
        ACTOR_CLI,
        None,
        &LanInput {
            name: "Peering LAN".into(),
            vlan_id: "100".into(),
            ipv4_prefix: "192.0.2.0/24".into(),
            ipv6_prefix: "2001:db8:100::/64".into(),
        },
    )
    .map_err(err)?;
    for (name, n) in [("rs1", 1), ("rs2", 2)] {
        peering::save_route_server(
            conn,
            ACTOR_CLI,
            None,
            &RouteServerInput {
                lan_id: lan.to_string(),
                name: name.into(),
                asn: "64999".into(),
                ipv4_address: format!("192.0.2.{n}"),
                ipv6_address: format!("2001:db8:100::{n}"),
            },
        )
        .map_err(err)?;
    }
    for (i, c) in customers::all(conn)?.into_iter().enumerate() {
        let host = 10 + i;
        peering::save_connection(
            conn,
            ACTOR_CLI,
            None,
            &ConnectionInput {
                customer_id: c.id.to_string(),
                lan_id: lan.to_string(),
                ipv4_address: format!("192.0.2.{host}"),
                ipv6_address: format!("2001:db8:100::{host:x}"),
                mac_addresses: format!("02:00:00:00:00:{host:02x}"),
                speed_mbps: "10000".into(),
                max_prefixes_v4: "1000".into(),
                max_prefixes_v6: "200".into(),
                as_set: format!("AS-{}", c.shortname.to_uppercase().replace(['.', '_'], "-")),
                rs_client: Some("on".into()),
            },
        )
        .map_err(err)?;
    }
    Ok(())
}
