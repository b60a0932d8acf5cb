//! The sample PeeringDB identities of `ixp-portal demo` (the simulator's
//! pick page shows each one's `_note`), and the portal state two of them
//! start with: a member's admin (custadmin) linked by staff, and a block
//! left by staff who removed a PeeringDB-made link.
use crate::admin::{self, AdminError};
use crate::db::audit::{self, ACTOR_CLI};
use crate::db::models::{NewUser, now};
use crate::db::{DbConnection, customers, peeringdb_links, users, write_tx};
use crate::domain::{BlockedBy, CreatedBy, OAUTH_CREATOR, Privilege};
use serde_json::{Value, json};

/// Carla: custadmin of Example Networks, her account made beforehand.
pub const CUSTADMIN_PDB_ID: i64 = 106;
/// Bob: staff removed his PeeringDB-made link to Example Networks.
pub const BLOCKED_PDB_ID: i64 = 107;

fn net(id: i64, asn: i64, name: &str) -> Value {
    json!({"id": id, "asn": asn, "name": name, "perms": 15})
}

/// Sample PeeringDB identities, in the order of a walk through the demo.
pub fn sample_profiles() -> Vec<Value> {
    let person = |id: i64, name: &str, email: &str, nets: Vec<Value>, note: &str| {
        json!({"id": id, "name": name, "given_name": name.split(' ').next(), "family_name": name.split(' ').nth(1),
               "email": email, "verified_user": true, "verified_email": true, "networks": nets, "amr": ["pwd", "mfa"], "_note": note})
    };
    let mut carla = person(
        CUSTADMIN_PDB_ID,
        "Carla Admin",
        "",
        vec![net(1, 64500, "Example Networks")],
        "custadmin of Example Networks (linked by staff, so PeeringDB never removes it): at /member/users she can \
         remove Jane, which keeps Jane out of Example Networks at her next PeeringDB login, and lift blocks. \
         Her profile has no email: the portal keeps the one it has (carla@example.net)",
    );
    if let Some(o) = carla.as_object_mut() {
        o.remove("email");
    }
    let mut unverified = person(
        105,
        "Vic Unverified",
        "vic@example.org",
        vec![net(1, 64500, "Example Networks")],
        "not verified on PeeringDB: refused",
    );
    unverified["verified_email"] = json!(false);
    vec![
        person(
            101,
            "Jane Doe",
            "jane@example.net",
            vec![
                net(1, 64500, "Example Networks"),
                net(8, 64507, "Shared Hosting"),
            ],
            "linked to Example Networks and to both customers sharing AS64507. Sign in as Carla and remove \
             her from Example Networks: her next login says \"removed by your network's administrator\"",
        ),
        carla,
        person(
            102,
            "Oscar Opted",
            "oscar@example.com",
            vec![
                net(3, 64502, "Private Telecom"),
                net(2, 64501, "Community Wireless"),
            ],
            "Private Telecom opted out of Login with PeeringDB (he is told so), pro-bono Community Wireless \
             linked. As staff, tick \"Allow login via PeeringDB OAuth\" on Private Telecom: the re-check \
             links him within about two minutes, without a login",
        ),
        person(
            BLOCKED_PDB_ID,
            "Bob Blocked",
            "bob@example.net",
            vec![
                net(2, 64501, "Community Wireless"),
                net(1, 64500, "Example Networks"),
            ],
            "staff removed his link to Example Networks earlier, so only Community Wireless is linked and \
             he is told \"removed by the exchange's staff\". Staff (/staff/users) or Carla can lift the block",
        ),
        person(
            103,
            "Nina Ineligible",
            "nina@example.org",
            vec![
                net(4, 64503, "Suspended Transit"),
                net(5, 64504, "Departed Carrier"),
                net(6, 64505, "Associate"),
                net(7, 64506, "Not Yet"),
            ],
            "all four networks are members, none may sign in: refused with the reason for each \
             (suspended, left, associate, not connected); no user created",
        ),
        person(
            104,
            "Sam Stranger",
            "sam@example.org",
            vec![net(9, 65550, "Not a member")],
            "no member of this IXP: refused",
        ),
        unverified,
    ]
}

fn customer(
    c: &mut DbConnection,
    shortname: &str,
) -> Result<crate::db::models::Customer, AdminError> {
    customers::by_shortname(c, shortname)?
        .ok_or_else(|| AdminError::NotFound(format!("demo: no customer {shortname}")))
}

/// After the sample customers: Carla's account, as a PeeringDB login
/// would have made it, linked to Example Networks as custadmin by staff;
/// and the block on Bob, as if staff had removed his PeeringDB-made link.
pub fn seed(conn: &mut DbConnection) -> anyhow::Result<()> {
    let unknown = crate::auth::password::unknown().map_err(|e| anyhow::anyhow!(e))?;
    write_tx(conn, |c| -> Result<(), AdminError> {
        let examplenet = customer(c, "examplenet")?;
        let t = now();
        let id = users::insert(
            c,
            &NewUser {
                username: "carla.admin",
                name: "Carla Admin",
                email: "carla@example.net",
                password_hash: &unknown,
                peeringdb_id: Some(CUSTADMIN_PDB_ID),
                creator: OAUTH_CREATOR,
                disabled: false,
                superuser: false,
                current_customer_id: None,
                session_epoch: 0,
                created_at: t,
                updated_at: t,
            },
        )?;
        audit::record(
            c,
            ACTOR_CLI,
            "user.create",
            "carla.admin",
            &format!(
                "demo sample: as made by a Login with PeeringDB of PeeringDB user {CUSTADMIN_PDB_ID}"
            ),
        )?;
        let carla = users::find(c, id)?
            .ok_or_else(|| AdminError::NotFound("demo: carla.admin vanished".into()))?;
        admin::link(
            c,
            ACTOR_CLI,
            &carla,
            &examplenet,
            Privilege::CustAdmin,
            CreatedBy::Admin,
        )?;
        if peeringdb_links::block(
            c,
            examplenet.id,
            BLOCKED_PDB_ID,
            BlockedBy::Staff,
            ACTOR_CLI,
        )? {
            audit::record(
                c,
                ACTOR_CLI,
                "peeringdb.block",
                &format!("peeringdb:{BLOCKED_PDB_ID}"),
                &format!(
                    "demo sample: PeeringDB logins of user {BLOCKED_PDB_ID} will not link {} again ({}) until the block is lifted",
                    examplenet.shortname,
                    BlockedBy::Staff.removed_by()
                ),
            )?;
        }
        Ok(())
    })?;
    Ok(())
}
