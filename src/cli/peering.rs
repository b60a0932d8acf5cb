//! `ixp`, `lan`, `routeserver` and `connection`: the peering LAN data from
//! the command line. Every change writes an audit entry (actor `cli`).
use crate::admin::peering::{self, ConnectionInput, IxpInput, LanInput, RouteServerInput};
use crate::db::lans::{self, Lan};
use crate::db::{DbConnection, audit::ACTOR_CLI, connections, customers};
use anyhow::{anyhow, bail};
use clap::{Args, Subcommand};

#[derive(Subcommand)]
pub enum ApiKeyCmd {
    /// Create a Peering API key for a customer (or a staff key); the key is
    /// printed once.
    Create {
        /// The customer's shortname; without it, a staff key.
        #[arg(long)]
        customer: Option<String>,
        #[arg(long)]
        name: String,
    },
}

pub fn apikey_cmd(c: &mut DbConnection, cmd: ApiKeyCmd) -> anyhow::Result<()> {
    match cmd {
        ApiKeyCmd::Create { customer, name } => {
            let cu = match customer {
                Some(s) => Some(
                    customers::by_shortname(c, &s)?
                        .ok_or_else(|| anyhow!("no customer with shortname {s:?}"))?,
                ),
                None => None,
            };
            let (id, key) = crate::admin::api_keys::create(c, ACTOR_CLI, cu.as_ref(), &name)
                .map_err(|e| anyhow!("{e}"))?;
            eprintln!("created API key {id} (shown once):");
            println!("{key}");
        }
    }
    Ok(())
}

#[derive(Subcommand)]
pub enum IxpCmd {
    /// Set the IXP's own record (name, shortname, IX-F id, PeeringDB ix id,
    /// country, support email); options left out keep their value.
    Set {
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        shortname: Option<String>,
        /// The IXP's id in the IX-F database (`none` clears it).
        #[arg(long)]
        ixf_id: Option<String>,
        /// The PeeringDB ix id (`none` clears it).
        #[arg(long)]
        peeringdb_ix_id: Option<String>,
        /// ISO 3166 two-letter country code.
        #[arg(long)]
        country: Option<String>,
        #[arg(long)]
        support_email: Option<String>,
    },
    /// Show the IXP's record.
    Show {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct LanArgs {
    #[arg(long)]
    pub name: Option<String>,
    /// 802.1Q VLAN id, 1 to 4094.
    #[arg(long)]
    pub vlan: Option<String>,
    /// IPv4 prefix, like 192.0.2.0/24 (`none` clears it).
    #[arg(long)]
    pub ipv4: Option<String>,
    /// IPv6 prefix, like 2001:db8::/64 (`none` clears it).
    #[arg(long)]
    pub ipv6: Option<String>,
}

#[derive(Subcommand)]
pub enum LanCmd {
    /// Create a peering LAN.
    Create(LanArgs),
    /// Change a peering LAN, found by its name.
    Update {
        lan: String,
        #[command(flatten)]
        args: LanArgs,
    },
    /// Delete a peering LAN without route servers or connections.
    Delete { lan: String },
    /// List peering LANs.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct RouteServerArgs {
    #[arg(long)]
    pub name: Option<String>,
    /// The peering LAN's name.
    #[arg(long)]
    pub lan: Option<String>,
    #[arg(long)]
    pub asn: Option<String>,
    #[arg(long)]
    pub ipv4: Option<String>,
    #[arg(long)]
    pub ipv6: Option<String>,
}

#[derive(Subcommand)]
pub enum RouteServerCmd {
    /// Create a route server on a peering LAN.
    Create(RouteServerArgs),
    /// Change a route server, found by its name.
    Update {
        routeserver: String,
        #[command(flatten)]
        args: RouteServerArgs,
    },
    /// Delete a route server.
    Delete { routeserver: String },
    /// List route servers.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct ConnectionArgs {
    /// The customer's shortname.
    #[arg(long)]
    pub customer: Option<String>,
    /// The peering LAN's name.
    #[arg(long)]
    pub lan: Option<String>,
    #[arg(long)]
    pub ipv4: Option<String>,
    #[arg(long)]
    pub ipv6: Option<String>,
    /// MAC addresses, separated by commas.
    #[arg(long)]
    pub mac: Option<String>,
    /// Port speed in Mbit/s (10G = 10000).
    #[arg(long)]
    pub speed: Option<String>,
    #[arg(long)]
    pub max_prefixes_v4: Option<String>,
    #[arg(long)]
    pub max_prefixes_v6: Option<String>,
    /// AS-SET, like AS-EXAMPLE or RIPE::AS-EXAMPLE (empty clears it).
    #[arg(long)]
    pub as_set: Option<String>,
    /// Route-server client: true or false (default true on create).
    #[arg(long)]
    pub rs_client: Option<String>,
}

#[derive(Subcommand)]
pub enum ConnectionCmd {
    /// Connect a customer to a peering LAN.
    Create(ConnectionArgs),
    /// Change a connection, found by its id.
    Update {
        id: i64,
        #[command(flatten)]
        args: ConnectionArgs,
    },
    /// Delete a connection.
    Delete { id: i64 },
    /// List connections, optionally of one customer.
    List {
        #[arg(long)]
        customer: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

fn lan_named(c: &mut DbConnection, name: &str) -> anyhow::Result<Lan> {
    lans::lan_by_name(c, name)?.ok_or_else(|| anyhow!("no peering LAN named {name:?}"))
}

fn bool_flag(var: &str, s: &str) -> anyhow::Result<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Ok(true),
        "false" | "no" | "0" => Ok(false),
        _ => bail!("--{var} {s:?}: use true or false"),
    }
}

fn pretty(v: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

pub fn ixp_cmd(c: &mut DbConnection, cmd: IxpCmd) -> anyhow::Result<()> {
    match cmd {
        IxpCmd::Set {
            name,
            shortname,
            ixf_id,
            peeringdb_ix_id,
            country,
            support_email,
        } => {
            let old = lans::ixp(c)?;
            let keep = |new: Option<String>, old: Option<String>| new.or(old).unwrap_or_default();
            let input = IxpInput {
                name: keep(name, old.as_ref().map(|o| o.name.clone())),
                shortname: keep(shortname, old.as_ref().map(|o| o.shortname.clone())),
                ixf_id: keep(
                    ixf_id,
                    old.as_ref().and_then(|o| o.ixf_id).map(|v| v.to_string()),
                ),
                peeringdb_ix_id: keep(
                    peeringdb_ix_id,
                    old.as_ref()
                        .and_then(|o| o.peeringdb_ix_id)
                        .map(|v| v.to_string()),
                ),
                country: keep(country, old.as_ref().map(|o| o.country.clone())),
                support_email: keep(support_email, old.as_ref().map(|o| o.support_email.clone())),
            };
            peering::set_ixp(c, ACTOR_CLI, &input).map_err(|e| anyhow!("{e}"))?;
            println!("saved the IXP record {}", input.shortname.trim());
        }
        IxpCmd::Show { json } => match lans::ixp(c)? {
            Some(i) if json => pretty(&i)?,
            Some(i) => {
                println!("name:            {}", i.name);
                println!("shortname:       {}", i.shortname);
                println!("IX-F id:         {}", opt(i.ixf_id));
                println!("PeeringDB ix id: {}", opt(i.peeringdb_ix_id));
                println!("country:         {}", i.country);
                println!("support email:   {}", i.support_email);
            }
            None => bail!(
                "the IXP record is not set: use `ixp-portal ixp set --name … --shortname … --country … --support-email …`"
            ),
        },
    }
    Ok(())
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "-".into())
}

pub fn lan_cmd(c: &mut DbConnection, cmd: LanCmd) -> anyhow::Result<()> {
    let merge = |a: LanArgs, old: Option<&Lan>| LanInput {
        name: a.name.or(old.map(|o| o.name.clone())).unwrap_or_default(),
        vlan_id: a
            .vlan
            .or(old.map(|o| o.vlan_id.to_string()))
            .unwrap_or_default(),
        ipv4_prefix: a
            .ipv4
            .or(old.and_then(|o| o.ipv4_prefix.clone()))
            .unwrap_or_default(),
        ipv6_prefix: a
            .ipv6
            .or(old.and_then(|o| o.ipv6_prefix.clone()))
            .unwrap_or_default(),
    };
    match cmd {
        LanCmd::Create(a) => {
            let input = merge(a, None);
            let id = peering::save_lan(c, ACTOR_CLI, None, &input).map_err(|e| anyhow!("{e}"))?;
            println!("created peering LAN {} (id {id})", input.name.trim());
        }
        LanCmd::Update { lan, args } => {
            let old = lan_named(c, &lan)?;
            let input = merge(args, Some(&old));
            peering::save_lan(c, ACTOR_CLI, Some(old.id), &input).map_err(|e| anyhow!("{e}"))?;
            println!("updated peering LAN {}", input.name.trim());
        }
        LanCmd::Delete { lan } => {
            let old = lan_named(c, &lan)?;
            peering::delete_lan(c, ACTOR_CLI, old.id).map_err(|e| anyhow!("{e}"))?;
            println!("deleted peering LAN {}", old.name);
        }
        LanCmd::List { json } => {
            let all = lans::lans(c)?;
            if json {
                return pretty(&all);
            }
            println!("{:<6} {:<20} {:<20} {:<24}", "VLAN", "NAME", "IPV4", "IPV6");
            for l in all {
                println!(
                    "{:<6} {:<20} {:<20} {:<24}",
                    l.vlan_id,
                    l.name,
                    l.ipv4_prefix.as_deref().unwrap_or("-"),
                    l.ipv6_prefix.as_deref().unwrap_or("-")
                );
            }
        }
    }
    Ok(())
}

pub fn routeserver_cmd(c: &mut DbConnection, cmd: RouteServerCmd) -> anyhow::Result<()> {
    match cmd {
        RouteServerCmd::Create(a) => {
            let lan = lan_named(
                c,
                a.lan
                    .as_deref()
                    .ok_or_else(|| anyhow!("--lan is required"))?,
            )?;
            let input = RouteServerInput {
                lan_id: lan.id.to_string(),
                name: a.name.unwrap_or_default(),
                asn: a.asn.unwrap_or_default(),
                ipv4_address: a.ipv4.unwrap_or_default(),
                ipv6_address: a.ipv6.unwrap_or_default(),
            };
            let id = peering::save_route_server(c, ACTOR_CLI, None, &input)
                .map_err(|e| anyhow!("{e}"))?;
            println!("created route server {} (id {id})", input.name.trim());
        }
        RouteServerCmd::Update { routeserver, args } => {
            let old = lans::route_server_by_name(c, &routeserver)?
                .ok_or_else(|| anyhow!("no route server named {routeserver:?}"))?;
            let lan_id = match &args.lan {
                Some(l) => lan_named(c, l)?.id,
                None => old.lan_id,
            };
            let input = RouteServerInput {
                lan_id: lan_id.to_string(),
                name: args.name.unwrap_or(old.name),
                asn: args.asn.unwrap_or(old.asn.to_string()),
                ipv4_address: args.ipv4.or(old.ipv4_address).unwrap_or_default(),
                ipv6_address: args.ipv6.or(old.ipv6_address).unwrap_or_default(),
            };
            peering::save_route_server(c, ACTOR_CLI, Some(old.id), &input)
                .map_err(|e| anyhow!("{e}"))?;
            println!("updated route server {}", input.name.trim());
        }
        RouteServerCmd::Delete { routeserver } => {
            let old = lans::route_server_by_name(c, &routeserver)?
                .ok_or_else(|| anyhow!("no route server named {routeserver:?}"))?;
            peering::delete_route_server(c, ACTOR_CLI, old.id).map_err(|e| anyhow!("{e}"))?;
            println!("deleted route server {}", old.name);
        }
        RouteServerCmd::List { json } => {
            let all = lans::route_servers(c)?;
            if json {
                return pretty(&all);
            }
            println!(
                "{:<5} {:<20} {:<12} {:<6} {:<16} IPV6",
                "ID", "NAME", "ASN", "LAN", "IPV4"
            );
            for r in all {
                println!(
                    "{:<5} {:<20} {:<12} {:<6} {:<16} {}",
                    r.id,
                    r.name,
                    r.asn,
                    r.lan_id,
                    r.ipv4_address.as_deref().unwrap_or("-"),
                    r.ipv6_address.as_deref().unwrap_or("-")
                );
            }
        }
    }
    Ok(())
}

pub fn connection_cmd(c: &mut DbConnection, cmd: ConnectionCmd) -> anyhow::Result<()> {
    match cmd {
        ConnectionCmd::Create(a) => {
            let shortname = a
                .customer
                .as_deref()
                .ok_or_else(|| anyhow!("--customer is required"))?;
            let customer = customers::by_shortname(c, shortname)?
                .ok_or_else(|| anyhow!("no customer with shortname {shortname:?}"))?;
            let lan = lan_named(
                c,
                a.lan
                    .as_deref()
                    .ok_or_else(|| anyhow!("--lan is required"))?,
            )?;
            let rs = match &a.rs_client {
                Some(v) => bool_flag("rs-client", v)?,
                None => true,
            };
            let input = ConnectionInput {
                customer_id: customer.id.to_string(),
                lan_id: lan.id.to_string(),
                ipv4_address: a.ipv4.unwrap_or_default(),
                ipv6_address: a.ipv6.unwrap_or_default(),
                mac_addresses: a.mac.unwrap_or_default(),
                speed_mbps: a.speed.unwrap_or_default(),
                max_prefixes_v4: a.max_prefixes_v4.unwrap_or_default(),
                max_prefixes_v6: a.max_prefixes_v6.unwrap_or_default(),
                as_set: a.as_set.unwrap_or_default(),
                rs_client: rs.then(|| "on".into()),
            };
            let id =
                peering::save_connection(c, ACTOR_CLI, None, &input).map_err(|e| anyhow!("{e}"))?;
            println!(
                "created connection {id} of {} on {}",
                customer.shortname, lan.name
            );
        }
        ConnectionCmd::Update { id, args } => {
            let old =
                connections::find(c, id)?.ok_or_else(|| anyhow!("no connection with id {id}"))?;
            let mut input = ConnectionInput::from_connection(&old);
            if let Some(s) = &args.customer {
                let cu = customers::by_shortname(c, s)?
                    .ok_or_else(|| anyhow!("no customer with shortname {s:?}"))?;
                input.customer_id = cu.id.to_string();
            }
            if let Some(l) = &args.lan {
                input.lan_id = lan_named(c, l)?.id.to_string();
            }
            let set = |dst: &mut String, v: Option<String>| {
                if let Some(v) = v {
                    *dst = v;
                }
            };
            set(&mut input.ipv4_address, args.ipv4);
            set(&mut input.ipv6_address, args.ipv6);
            set(&mut input.mac_addresses, args.mac);
            set(&mut input.speed_mbps, args.speed);
            set(&mut input.max_prefixes_v4, args.max_prefixes_v4);
            set(&mut input.max_prefixes_v6, args.max_prefixes_v6);
            set(&mut input.as_set, args.as_set);
            if let Some(v) = &args.rs_client {
                input.rs_client = bool_flag("rs-client", v)?.then(|| "on".into());
            }
            peering::save_connection(c, ACTOR_CLI, Some(id), &input).map_err(|e| anyhow!("{e}"))?;
            println!("updated connection {id}");
        }
        ConnectionCmd::Delete { id } => {
            peering::delete_connection(c, ACTOR_CLI, id).map_err(|e| anyhow!("{e}"))?;
            println!("deleted connection {id}");
        }
        ConnectionCmd::List { customer, json } => {
            let all = match customer {
                Some(s) => {
                    let cu = customers::by_shortname(c, &s)?
                        .ok_or_else(|| anyhow!("no customer with shortname {s:?}"))?;
                    connections::of_customer(c, cu.id)?
                }
                None => connections::all(c)?,
            };
            if json {
                return pretty(&all);
            }
            println!(
                "{:<5} {:<9} {:<5} {:<16} {:<24} {:<8} {:<3} AS-SET",
                "ID", "CUSTOMER", "LAN", "IPV4", "IPV6", "MBIT/S", "RS"
            );
            for x in all {
                println!(
                    "{:<5} {:<9} {:<5} {:<16} {:<24} {:<8} {:<3} {}",
                    x.id,
                    x.customer_id,
                    x.lan_id,
                    x.ipv4_address.as_deref().unwrap_or("-"),
                    x.ipv6_address.as_deref().unwrap_or("-"),
                    x.speed_mbps,
                    if x.rs_client { "yes" } else { "no" },
                    x.as_set.as_deref().unwrap_or("-")
                );
            }
        }
    }
    Ok(())
}
