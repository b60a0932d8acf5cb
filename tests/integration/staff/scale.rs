//! 100,000 users and 10,000 customers: the user list's queries use indexes
//! (checked in the query plan) and the pages render. Timings belong in the
//! benchmark, not here.
use super::{Browser, PW, listed_users};
use crate::both_backends;
use crate::common::{Backend, TestApp, spawn};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use ixp_portal::db::explain::explain;
use ixp_portal::db::models::now;
use ixp_portal::db::schema::{customers, users};
use ixp_portal::db::users::{UserFilter, list_query};
use ixp_portal::db::{DbConnection, write_tx};
use ixp_portal::domain::{CreatedBy, CustomerStatus, CustomerType};
use reqwest::StatusCode;

both_backends!(hundred_thousand_users);

const USERS: i64 = 100_000;
const CUSTOMERS: i64 = 10_000;

/// Batch inserts in one transaction: customers, users (a third made by
/// PeeringDB OAuth), and one or two affiliations per user.
fn seed(c: &mut DbConnection) {
    write_tx(c, |c| -> Result<(), diesel::result::Error> {
        let t = now();
        for start in (0..CUSTOMERS).step_by(1000) {
            let rows: Vec<_> = (start..start + 1000)
                .map(|i| {
                    (
                        customers::name.eq(format!("Network {i:05}")),
                        customers::shortname.eq(format!("net{i:05}")),
                        customers::autsys.eq(64_512 + i),
                        customers::cust_type.eq(CustomerType::Full),
                        customers::status.eq(CustomerStatus::Normal),
                        customers::peeringdb_oauth.eq(true),
                        customers::created_at.eq(t),
                        customers::updated_at.eq(t),
                    )
                })
                .collect();
            ixp_portal::on_backend!(&mut *c, |conn| diesel::insert_into(customers::table)
                .values(rows)
                .execute(conn))?;
        }
        let first_customer: i64 = customers::table
            .select(diesel::dsl::min(customers::id))
            .first::<Option<i64>>(c)?
            .unwrap_or(1);
        for start in (0..USERS).step_by(1000) {
            // Tuples, not `NewUser`: its `None` would be `DEFAULT`, which
            // SQLite's multi-row insert cannot carry.
            let rows: Vec<_> = (start..start + 1000)
                .map(|i| {
                    (
                        users::username.eq(format!("member{i:06}")),
                        users::name.eq(format!("Member {i}")),
                        users::email.eq(format!("m{i}@net{:05}.example", i % CUSTOMERS)),
                        users::password_hash.eq("!"),
                        users::creator.eq(if i % 3 == 0 { "OAuth-PeeringDB" } else { "cli" }),
                        users::disabled.eq(false),
                        users::superuser.eq(false),
                        users::current_customer_id.eq(first_customer + i % CUSTOMERS),
                        users::session_epoch.eq(0),
                        users::created_at.eq(t),
                        users::updated_at.eq(t),
                    )
                })
                .collect();
            ixp_portal::on_backend!(&mut *c, |conn| diesel::insert_into(users::table)
                .values(rows)
                .execute(conn))?;
        }
        // One link per user to their current customer, a second for every
        // fifth user.
        let mut links = c.batch_execute(
            "INSERT INTO affiliations (user_id, customer_id, privilege, created_by, created_at, updated_at) \
             SELECT id, current_customer_id, 1, 'cli', created_at, created_at FROM users \
             WHERE current_customer_id IS NOT NULL",
        );
        if links.is_ok() {
            links = c.batch_execute(&format!(
                "INSERT INTO affiliations (user_id, customer_id, privilege, created_by, created_at, updated_at) \
                 SELECT id, {first_customer} + ((current_customer_id - {first_customer} + 1) % {CUSTOMERS}), 2, '{}', created_at, created_at \
                 FROM users WHERE id % 5 = 0",
                CreatedBy::Admin.as_str()
            ));
        }
        links?;
        Ok(())
    })
    .expect("seeding");
    c.batch_execute("ANALYZE").expect("analyze");
}

/// The plan of a page of the user list, which must come in index order
/// (no sort of the matching users).
fn plan(app: &TestApp, filter: &UserFilter, after: Option<&str>) -> String {
    let plan = app
        .with_conn(|c| {
            // The list unfiltered is a statement of its own (not boxed).
            if filter.search.is_none() && filter.oauth.is_none() {
                let q = ixp_portal::db::users::unfiltered_query(after.unwrap_or(""), 51);
                explain(c, q).unwrap()
            } else {
                let q = list_query(c, filter, after, 51);
                explain(c, q).unwrap()
            }
        })
        .join("\n");
    assert!(
        !plan.contains("Sort") && !plan.contains("TEMP B-TREE FOR ORDER BY"),
        "the page is read in index order:\n{plan}"
    );
    plan
}

/// The plan reads `table` through one of the `indexes` and never scans it
/// whole.
fn assert_indexed(backend: Backend, plan: &str, table: &str, indexes: &[&str]) {
    let uses_index = indexes.iter().any(|i| plan.contains(i));
    assert!(uses_index, "uses one of {indexes:?}:\n{plan}");
    match backend {
        Backend::Postgres => {
            assert!(
                !plan.contains(&format!("Seq Scan on {table}")),
                "no sequential scan of {table}:\n{plan}"
            );
        }
        Backend::Sqlite => {
            assert!(
                !plan.contains(&format!("SCAN {table}\n"))
                    && !plan.ends_with(&format!("SCAN {table}")),
                "no full scan of {table} without an index:\n{plan}"
            );
        }
    }
}

async fn hundred_thousand_users(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    app.create_user("staff", PW, true);
    app.with_conn(seed);
    let total = app.with_conn(|c| ixp_portal::db::users::counts(c).unwrap());
    assert_eq!(total.0, USERS + 1);

    // The query plans of the list: first page, a deep page, the OAuth filter.
    let all = UserFilter::default();
    let by_name = ["users_username"];
    assert_indexed(b, &plan(&app, &all, None), "users", &by_name);
    assert_indexed(
        b,
        &plan(&app, &all, Some("member090000")),
        "users",
        &by_name,
    );
    let oauth = UserFilter {
        oauth: Some(true),
        ..Default::default()
    };
    assert_indexed(
        b,
        &plan(&app, &oauth, Some("member050000")),
        "users",
        &["users_creator_username", "users_username"],
    );
    let not_oauth = UserFilter {
        oauth: Some(false),
        ..Default::default()
    };
    assert_indexed(b, &plan(&app, &not_oauth, None), "users", &by_name);
    // The page's link counts and customer names: an index probe per row
    // in the same statement, never a scan.
    let page_plan = plan(&app, &all, Some("member070000"));
    assert_indexed(
        b,
        &page_plan,
        "affiliations",
        &["affiliations_user_customer"],
    );
    assert!(
        !page_plan.contains("Seq Scan on customers") && !page_plan.contains("SCAN customers"),
        "customers by primary key:\n{page_plan}"
    );

    // A substring search goes through the trigram index, not a scan.
    let search = UserFilter {
        search: Some("mber01234".into()),
        ..Default::default()
    };
    let search_plan = app
        .with_conn(|c| {
            let q = list_query(c, &search, None, 51);
            explain(c, q).unwrap()
        })
        .join("\n");
    match b {
        Backend::Sqlite => assert!(
            search_plan.contains("users_search") && search_plan.contains("INDEX"),
            "SQLite searches through the FTS5 trigram index:\n{search_plan}"
        ),
        Backend::Postgres => {
            assert!(
                search_plan.contains("_trgm") && !search_plan.contains("Seq Scan on users"),
                "PostgreSQL searches through the pg_trgm indexes:\n{search_plan}"
            );
            // The matches first, then their order: never a walk of the
            // whole list in its order, testing every user.
            assert!(
                search_plan.contains("InitPlan")
                    && !search_plan.contains("Index Scan using users_username on users"),
                "PostgreSQL finds the matches, then sorts them:\n{search_plan}"
            );
        }
    }

    // A PeeringDB login confirms the user's PeeringDB-made links, found
    // by the user: even while the statistics (taken before any PeeringDB
    // login) say such links are rare, never through the index by kind,
    // which holds every user's.
    let confirm_plan = app
        .with_conn(|c| {
            c.batch_execute(
                "INSERT INTO affiliations (user_id, customer_id, privilege, created_by, created_at, updated_at, confirmed_at) \
                 SELECT id, f.first + ((current_customer_id - f.first + 2) % 10000), 1, 'peeringdb', created_at, created_at, created_at \
                 FROM users, (SELECT min(id) AS first FROM customers) f \
                 WHERE id % 11 = 0 AND current_customer_id IS NOT NULL",
            )
            .expect("PeeringDB-made links");
            let user: i64 = users::table
                .filter(users::username.eq("member000011"))
                .select(users::id)
                .first(c)
                .unwrap();
            explain(c, ixp_portal::db::peeringdb_links::links_of_user(user)).unwrap()
        })
        .join("\n");
    assert_indexed(
        b,
        &confirm_plan,
        "affiliations",
        &["affiliations_user_customer"],
    );

    // The pages render: first, deep, filtered, searched.
    let staff = Browser::signed_in(&app, "staff").await;
    let (s, page) = staff.get("/staff/users").await;
    assert_eq!(s, StatusCode::OK);
    let first = listed_users(&page);
    assert_eq!(first.len(), 50);
    assert_eq!(first[0], "member000000");
    assert!(page.contains("after=member000049"));
    let (s, page) = staff.get("/staff/users?after=member099980").await;
    assert_eq!(s, StatusCode::OK);
    let last = listed_users(&page);
    assert_eq!(last.len(), 20, "member099981..member099999 and staff");
    assert!(!page.contains("Next →"));
    let (_, page) = staff.get("/staff/users?oauth=y&after=member050000").await;
    let rows = listed_users(&page);
    assert_eq!(rows.len(), 50);
    assert_eq!(rows[0], "member050001");
    assert!(
        page.contains("<td>2</td>"),
        "counts shown for users with two links"
    );
    let (_, page) = staff.get("/staff/users?q=member012345").await;
    assert_eq!(listed_users(&page), ["member012345"]);
    let (_, page) = staff.get("/staff/users?q=AS64513").await;
    assert!(
        !listed_users(&page).is_empty(),
        "search by a linked customer's ASN"
    );
    let (s, page) = staff.get("/staff/customers?page=200").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Network 09999"));
}
