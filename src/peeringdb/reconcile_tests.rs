//! Tests of the PeeringDB login reconciliation (SPEC §2, steps 2 to 8): a
//! table of named cases for every rule and reason, then property tests over
//! random profiles, states and policies.
use super::*;
use crate::domain::{CustomerStatus, CustomerType, Ineligible, UNKNOWN_PDB_USER};
use crate::peeringdb::profile::Network;
use chrono::TimeDelta;
use proptest::prelude::*;

// ------------------------------------------------------------------ builders

const AS_A: i64 = 64500;
const AS_B: i64 = 64501;
const AS_C: i64 = 64502;
/// A valid ASN that no customer carries.
const AS_NOBODY: i64 = 64599;
/// The id of the existing user in the table cases.
const USER_ID: i64 = 42;
const PDB_ID: i64 = 3;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 6, 15).expect("a valid date")
}

/// Noon of `today`: the time that decides a link's age.
fn now() -> NaiveDateTime {
    today().and_hms_opt(12, 0, 0).expect("a valid time")
}

/// A day in seconds.
const DAY: i64 = 86_400;

/// `AUTH_PEERINGDB_LINK_MAX_AGE` in the cases: 30 days.
const MAX_AGE: i64 = 30 * DAY;

/// `today` plus `offset` days.
fn day(offset: i64) -> NaiveDate {
    today() + TimeDelta::days(offset)
}

fn asn(value: i64) -> Asn {
    Asn::new(value).expect("a valid ASN")
}

fn net(asn_value: i64) -> Network {
    Network {
        id: Some(asn_value % 10_000),
        asn: Asn::new(asn_value),
        name: Some(format!("Network AS{asn_value}")),
        perms: Some(15),
        manage_peering_sessions: None,
    }
}

fn profile(name: Option<&str>, asns: &[i64]) -> Profile {
    Profile {
        id: PDB_ID,
        name: name.map(str::to_string),
        given_name: None,
        family_name: None,
        email: Some("jane@example.net".into()),
        verified_user: true,
        verified_email: true,
        networks: asns.iter().copied().map(net).collect(),
        amr: None,
    }
}

/// A verified "Jane Doe" affiliated with `asns`, in that order.
fn jane(asns: &[i64]) -> Profile {
    profile(Some("Jane Doe"), asns)
}

fn from_json(json: &str) -> Profile {
    Profile::parse(json.as_bytes()).expect("a well-formed test profile")
}

/// An eligible customer: full, normal, not cancelled, not opted out.
fn customer(id: i64, asn_value: i64) -> CustomerFacts {
    CustomerFacts {
        id,
        name: format!("Customer {id}"),
        shortname: format!("c{id}"),
        asn: asn(asn_value),
        kind: CustomerType::Full,
        status: CustomerStatus::Normal,
        date_left: None,
        peeringdb_oauth: true,
    }
}

fn kind(kind: CustomerType, c: CustomerFacts) -> CustomerFacts {
    CustomerFacts { kind, ..c }
}

fn status(status: CustomerStatus, c: CustomerFacts) -> CustomerFacts {
    CustomerFacts { status, ..c }
}

fn left(offset: i64, c: CustomerFacts) -> CustomerFacts {
    CustomerFacts {
        date_left: Some(day(offset)),
        ..c
    }
}

fn opted_out(c: CustomerFacts) -> CustomerFacts {
    CustomerFacts {
        peeringdb_oauth: false,
        ..c
    }
}

fn named(name: &str, c: CustomerFacts) -> CustomerFacts {
    CustomerFacts {
        name: name.into(),
        ..c
    }
}

fn link(affiliation_id: i64, customer: CustomerFacts, created_by: CreatedBy) -> ExistingLink {
    ExistingLink {
        affiliation_id,
        customer,
        created_by,
        confirmed_at: Some(now()),
    }
}

/// `l`, last confirmed by PeeringDB `seconds` before `now` (negative: after).
fn aged(seconds: i64, l: ExistingLink) -> ExistingLink {
    ExistingLink {
        confirmed_at: Some(now() - TimeDelta::seconds(seconds)),
        ..l
    }
}

/// `l`, never confirmed by PeeringDB.
fn never_confirmed(l: ExistingLink) -> ExistingLink {
    ExistingLink {
        confirmed_at: None,
        ..l
    }
}

fn user(links: Vec<ExistingLink>) -> ExistingUser {
    ExistingUser {
        id: USER_ID,
        username: "jane.doe".into(),
        email: "stored@example.net".into(),
        superuser: false,
        disabled: false,
        links,
    }
}

fn superuser(links: Vec<ExistingLink>) -> ExistingUser {
    ExistingUser {
        superuser: true,
        ..user(links)
    }
}

fn disabled(links: Vec<ExistingLink>) -> ExistingUser {
    ExistingUser {
        disabled: true,
        ..user(links)
    }
}

fn state(user: Option<ExistingUser>, customers: Vec<CustomerFacts>) -> State {
    State {
        user,
        customers,
        taken_usernames: HashSet::new(),
        blocks: Vec::new(),
    }
}

fn taken(mut s: State, names: &[&str]) -> State {
    s.taken_usernames = names.iter().map(|n| n.to_string()).collect();
    s
}

/// `s` with these customers blocked (§6.2).
fn blocked(mut s: State, blocks: &[(i64, BlockedBy)]) -> State {
    s.blocks = blocks.to_vec();
    s
}

fn policy() -> Policy {
    Policy {
        privilege: Privilege::CustUser,
        require_mfa: false,
        today: today(),
        now: now(),
        max_link_age: MAX_AGE,
    }
}

fn custadmin() -> Policy {
    Policy {
        privilege: Privilege::CustAdmin,
        ..policy()
    }
}

fn mfa() -> Policy {
    Policy {
        require_mfa: true,
        ..policy()
    }
}

fn with_amr(p: Profile, amr: Option<&[&str]>) -> Profile {
    Profile {
        amr: amr.map(|a| a.iter().map(|m| m.to_string()).collect()),
        ..p
    }
}

fn with_email(p: Profile, email: Option<&str>) -> Profile {
    Profile {
        email: email.map(str::to_string),
        ..p
    }
}

fn unverified(p: Profile, verified_user: bool, verified_email: bool) -> Profile {
    Profile {
        verified_user,
        verified_email,
        ..p
    }
}

fn create_as(username: &str, name: &str, email: &str) -> UserAction {
    UserAction::Create {
        username: Username::parse(username).expect("a valid expected username"),
        name: name.into(),
        email: email.into(),
        peeringdb_id: PDB_ID,
    }
}

fn create(username: &str) -> UserAction {
    create_as(username, "Jane Doe", "jane@example.net")
}

fn update_as(name: &str, email: &str) -> UserAction {
    UserAction::Update {
        id: USER_ID,
        name: name.into(),
        email: email.into(),
    }
}

fn update() -> UserAction {
    update_as("Jane Doe", "jane@example.net")
}

// ----------------------------------------------------------- expected plans

/// The expected facts of a plan. Reasons are checked as substrings.
#[derive(Debug)]
struct Want {
    user: UserAction,
    /// Customer ids and privilege.
    add: Vec<(i64, Privilege)>,
    /// Affiliation ids and a part of the reason.
    remove: Vec<(i64, &'static str)>,
    /// Customer ids and a part of the reason.
    skipped: Vec<(i64, &'static str)>,
    /// Affiliation ids and the exact cause, for some of `remove`.
    remove_causes: Vec<(i64, Cause)>,
    /// Customer ids and the exact cause, for some of `skipped`.
    skip_causes: Vec<(i64, Cause)>,
    /// What the person is told, in order: customer ids and outcomes.
    networks: Option<Vec<(i64, Result<bool, Cause>)>>,
    delete_user: Option<i64>,
    refusal: Option<Refusal>,
}

fn want(user: UserAction) -> Want {
    Want {
        user,
        add: Vec::new(),
        remove: Vec::new(),
        skipped: Vec::new(),
        remove_causes: Vec::new(),
        skip_causes: Vec::new(),
        networks: None,
        delete_user: None,
        refusal: None,
    }
}

/// A refusal that changes nothing at all.
fn nothing(refusal: Refusal) -> Want {
    want(UserAction::Keep).refuse(refusal)
}

impl Want {
    fn add(mut self, customers: &[i64], privilege: Privilege) -> Want {
        self.add.extend(customers.iter().map(|&id| (id, privilege)));
        self
    }
    fn remove(mut self, affiliation_id: i64, why: &'static str) -> Want {
        self.remove.push((affiliation_id, why));
        self
    }
    fn skip(mut self, customer_id: i64, why: &'static str) -> Want {
        self.skipped.push((customer_id, why));
        self
    }
    /// The removal of `affiliation_id` has exactly this cause.
    fn removed_for(mut self, affiliation_id: i64, cause: Cause) -> Want {
        self.remove_causes.push((affiliation_id, cause));
        self
    }
    /// The skip of `customer_id` has exactly this cause.
    fn skipped_for(mut self, customer_id: i64, cause: Cause) -> Want {
        self.skip_causes.push((customer_id, cause));
        self
    }
    /// The networks the person is told about, exactly and in this order.
    fn networks(mut self, networks: &[(i64, Result<bool, Cause>)]) -> Want {
        self.networks = Some(networks.to_vec());
        self
    }
    fn delete(mut self) -> Want {
        self.delete_user = Some(USER_ID);
        self
    }
    fn refuse(mut self, refusal: Refusal) -> Want {
        self.refusal = Some(refusal);
        self
    }
}

struct Case {
    name: &'static str,
    profile: Profile,
    state: State,
    policy: Policy,
    want: Want,
}

fn case(name: &'static str, profile: Profile, state: State, policy: Policy, want: Want) -> Case {
    Case {
        name,
        profile,
        state,
        policy,
        want,
    }
}

// The reasons, as the audit log shows them.
const WHY_ASSOCIATE: &str = "customer type is associate";
const WHY_INTERNAL: &str = "customer type is internal";
const WHY_NOTCONNECTED: &str = "customer status is notconnected";
const WHY_SUSPENDED: &str = "customer status is suspended";
const WHY_CANCELLED: &str = "has left the IXP";
const WHY_OPTED_OUT: &str = "opted out";
const WHY_BLOCKED_STAFF: &str = "blocked: the link was removed by the exchange's staff";
const WHY_BLOCKED_CUSTADMIN: &str = "blocked: the link was removed by your network's administrator";
const WHY_UNCONFIRMED: &str =
    "not confirmed by PeeringDB for 30 days: sign in with PeeringDB to restore it";

fn table() -> Vec<Case> {
    use CreatedBy::{Admin, Cli, PeeringDb};
    use CustomerStatus::{NotConnected, Suspended};
    use CustomerType::{Associate, Internal, ProBono};
    use Privilege::{CustAdmin, CustUser};
    use Refusal::{Disabled, MfaRequired, NoMatch, NotEligible, Unverified};
    let left_profile = |value| Cause::LeftProfile(asn(value));
    let ineligible = Cause::Ineligible;
    let by_staff = Cause::Blocked(BlockedBy::Staff);
    let by_custadmin = Cause::Blocked(BlockedBy::Custadmin);

    vec![
        // ---- step 2: verified user and email
        case(
            "unverified user: refused, existing user and links untouched",
            unverified(jane(&[AS_A]), false, true),
            state(
                Some(user(vec![
                    link(7, customer(1, AS_B), PeeringDb),
                    link(8, status(Suspended, customer(2, AS_A)), PeeringDb),
                ])),
                vec![customer(3, AS_A), status(Suspended, customer(2, AS_A))],
            ),
            policy(),
            nothing(Unverified),
        ),
        case(
            "unverified email: refused, no user created",
            unverified(jane(&[AS_A]), true, false),
            state(None, vec![customer(1, AS_A)]),
            policy(),
            nothing(Unverified),
        ),
        case(
            "unverified user and email: refused, a link-less user is not deleted",
            unverified(jane(&[AS_NOBODY]), false, false),
            state(Some(user(vec![])), vec![]),
            policy(),
            nothing(Unverified),
        ),
        case(
            "verification is checked before MFA",
            with_amr(unverified(jane(&[AS_A]), false, true), None),
            state(None, vec![customer(1, AS_A)]),
            mfa(),
            nothing(Unverified),
        ),
        // ---- MFA
        case(
            "MFA required, amr missing: refused, existing user untouched",
            with_amr(jane(&[AS_A]), None),
            state(
                Some(user(vec![link(7, customer(1, AS_B), PeeringDb)])),
                vec![customer(2, AS_A)],
            ),
            mfa(),
            nothing(MfaRequired),
        ),
        case(
            "MFA required, amr without mfa: refused",
            with_amr(jane(&[AS_A]), Some(&["pwd", "otp"])),
            state(None, vec![customer(1, AS_A)]),
            mfa(),
            nothing(MfaRequired),
        ),
        case(
            "MFA required, empty amr: refused",
            with_amr(jane(&[AS_A]), Some(&[])),
            state(None, vec![customer(1, AS_A)]),
            mfa(),
            nothing(MfaRequired),
        ),
        case(
            "MFA required and present: login succeeds",
            with_amr(jane(&[AS_A]), Some(&["pwd", "mfa"])),
            state(None, vec![customer(1, AS_A)]),
            mfa(),
            want(create("jane.doe")).add(&[1], CustUser),
        ),
        case(
            "MFA not required: amr missing is fine",
            with_amr(jane(&[AS_A]), None),
            state(None, vec![customer(1, AS_A)]),
            policy(),
            want(create("jane.doe")).add(&[1], CustUser),
        ),
        case(
            "MFA required, existing user with mfa: updated and reconciled",
            with_amr(jane(&[AS_A]), Some(&["mfa"])),
            state(
                Some(user(vec![link(7, customer(1, AS_B), PeeringDb)])),
                vec![customer(2, AS_A)],
            ),
            mfa(),
            want(update())
                .add(&[2], CustUser)
                .remove(7, "AS64501 is no longer among"),
        ),
        // ---- step 4: a new user
        case(
            "new user: sanitized username, linked as custuser",
            jane(&[AS_A]),
            state(None, vec![customer(1, AS_A)]),
            policy(),
            want(create("jane.doe")).add(&[1], CustUser),
        ),
        case(
            "new user: linked to every eligible customer as custadmin",
            jane(&[AS_A, AS_B]),
            state(None, vec![customer(1, AS_A), customer(2, AS_B)]),
            custadmin(),
            want(create("jane.doe")).add(&[1, 2], CustAdmin),
        ),
        case(
            "new user: missing name becomes unknownpdbuser",
            profile(None, &[AS_A]),
            state(None, vec![customer(1, AS_A)]),
            policy(),
            want(create_as(
                "unknownpdbuser",
                "PeeringDB user 3",
                "jane@example.net",
            ))
            .add(&[1], CustUser),
        ),
        case(
            "new user: empty name becomes unknownpdbuser",
            profile(Some(""), &[AS_A]),
            state(None, vec![customer(1, AS_A)]),
            policy(),
            want(create_as(
                "unknownpdbuser",
                "PeeringDB user 3",
                "jane@example.net",
            ))
            .add(&[1], CustUser),
        ),
        case(
            "new user: no name, given and family names make the display name",
            Profile {
                given_name: Some("Jane".into()),
                family_name: Some("Doe".into()),
                ..profile(None, &[AS_A])
            },
            state(None, vec![customer(1, AS_A)]),
            policy(),
            want(create_as("unknownpdbuser", "Jane Doe", "jane@example.net")).add(&[1], CustUser),
        ),
        case(
            "new user: unicode and punctuation become dots, name and email from the profile",
            Profile {
                email: Some("zoe@example.org".into()),
                ..profile(Some("Zoë O'Brien-Smith_2"), &[AS_A])
            },
            state(None, vec![customer(1, AS_A)]),
            policy(),
            want(create_as(
                "zo..o.brien-smith_2",
                "Zoë O'Brien-Smith_2",
                "zoe@example.org",
            ))
            .add(&[1], CustUser),
        ),
        case(
            "new user: a taken username gets suffix 2 (never matched by username)",
            jane(&[AS_A]),
            taken(state(None, vec![customer(1, AS_A)]), &["jane.doe"]),
            policy(),
            want(create("jane.doe2")).add(&[1], CustUser),
        ),
        case(
            "new user: suffix 3 when 2 is also taken",
            jane(&[AS_A]),
            taken(
                state(None, vec![customer(1, AS_A)]),
                &["jane.doe", "jane.doe2", "jane.doe4"],
            ),
            policy(),
            want(create("jane.doe3")).add(&[1], CustUser),
        ),
        case(
            "new user: a taken unknownpdbuser gets a suffix",
            profile(None, &[AS_A]),
            taken(state(None, vec![customer(1, AS_A)]), &["unknownpdbuser"]),
            policy(),
            want(create_as(
                "unknownpdbuser2",
                "PeeringDB user 3",
                "jane@example.net",
            ))
            .add(&[1], CustUser),
        ),
        case(
            "new user: only the base name taken matters, not look-alikes",
            jane(&[AS_A]),
            taken(
                state(None, vec![customer(1, AS_A)]),
                &["jane.doe2", "Jane.Doe", "jane_doe"],
            ),
            policy(),
            want(create("jane.doe")).add(&[1], CustUser),
        ),
        // ---- step 4: an existing user
        case(
            "existing user: name and email updated, new customer linked",
            Profile {
                email: Some("new@example.net".into()),
                ..profile(Some("Jane Q. Doe"), &[AS_A, AS_B])
            },
            state(
                Some(user(vec![link(7, customer(1, AS_A), PeeringDb)])),
                vec![customer(1, AS_A), customer(2, AS_B)],
            ),
            policy(),
            want(update_as("Jane Q. Doe", "new@example.net")).add(&[2], CustUser),
        ),
        case(
            "existing user: customers already linked are not added again",
            jane(&[AS_A]),
            state(
                Some(user(vec![
                    link(7, customer(1, AS_A), Admin),
                    link(8, customer(2, AS_A), Cli),
                    link(9, customer(3, AS_A), PeeringDb),
                ])),
                vec![customer(1, AS_A), customer(2, AS_A), customer(3, AS_A)],
            ),
            custadmin(),
            want(update()),
        ),
        case(
            "existing user: matched by state.user only, taken usernames do not matter",
            jane(&[AS_A]),
            taken(
                state(Some(user(vec![])), vec![customer(1, AS_A)]),
                &["jane.doe"],
            ),
            policy(),
            want(update()).add(&[1], CustUser),
        ),
        case(
            "existing user, profile without an email: the stored email is kept",
            with_email(jane(&[AS_A]), None),
            state(
                Some(user(vec![link(7, customer(1, AS_A), PeeringDb)])),
                vec![customer(1, AS_A)],
            ),
            policy(),
            want(update_as("Jane Doe", "stored@example.net")),
        ),
        case(
            "existing user, profile with an empty email: the stored email is kept",
            with_email(jane(&[AS_A]), Some("")),
            state(
                Some(user(vec![link(7, customer(1, AS_A), PeeringDb)])),
                vec![customer(1, AS_A)],
            ),
            policy(),
            want(update_as("Jane Doe", "stored@example.net")),
        ),
        case(
            "existing user, profile with a blank email: the stored email is kept",
            with_email(jane(&[AS_A]), Some("  ")),
            state(
                Some(user(vec![link(7, customer(1, AS_A), PeeringDb)])),
                vec![customer(1, AS_A)],
            ),
            policy(),
            want(update_as("Jane Doe", "stored@example.net")),
        ),
        case(
            "new user, profile without an email: created with an empty email",
            with_email(jane(&[AS_A]), None),
            state(None, vec![customer(1, AS_A)]),
            policy(),
            want(create_as("jane.doe", "Jane Doe", "")).add(&[1], CustUser),
        ),
        // ---- step 7: ineligible candidates are skipped with a reason
        case(
            "skipped: type associate",
            jane(&[AS_A, AS_B]),
            state(
                None,
                vec![customer(1, AS_A), kind(Associate, customer(2, AS_B))],
            ),
            policy(),
            want(create("jane.doe"))
                .add(&[1], CustUser)
                .skip(2, WHY_ASSOCIATE),
        ),
        case(
            "skipped: type internal",
            jane(&[AS_A, AS_B]),
            state(
                None,
                vec![customer(1, AS_A), kind(Internal, customer(2, AS_B))],
            ),
            policy(),
            want(create("jane.doe"))
                .add(&[1], CustUser)
                .skip(2, WHY_INTERNAL),
        ),
        case(
            "linked: type probono",
            jane(&[AS_A, AS_B]),
            state(
                None,
                vec![customer(1, AS_A), kind(ProBono, customer(2, AS_B))],
            ),
            policy(),
            want(create("jane.doe")).add(&[1, 2], CustUser),
        ),
        case(
            "skipped: status notconnected",
            jane(&[AS_A, AS_B]),
            state(
                None,
                vec![customer(1, AS_A), status(NotConnected, customer(2, AS_B))],
            ),
            policy(),
            want(create("jane.doe"))
                .add(&[1], CustUser)
                .skip(2, WHY_NOTCONNECTED),
        ),
        case(
            "skipped: status suspended",
            jane(&[AS_A, AS_B]),
            state(
                None,
                vec![customer(1, AS_A), status(Suspended, customer(2, AS_B))],
            ),
            policy(),
            want(create("jane.doe"))
                .add(&[1], CustUser)
                .skip(2, WHY_SUSPENDED),
        ),
        case(
            "skipped: cancelled, date left yesterday",
            jane(&[AS_A, AS_B]),
            state(None, vec![customer(1, AS_A), left(-1, customer(2, AS_B))]),
            policy(),
            want(create("jane.doe"))
                .add(&[1], CustUser)
                .skip(2, WHY_CANCELLED),
        ),
        case(
            "skipped: cancelled, date left today",
            jane(&[AS_A, AS_B]),
            state(None, vec![customer(1, AS_A), left(0, customer(2, AS_B))]),
            policy(),
            want(create("jane.doe"))
                .add(&[1], CustUser)
                .skip(2, WHY_CANCELLED),
        ),
        case(
            "linked: date left tomorrow is not cancelled",
            jane(&[AS_A, AS_B]),
            state(None, vec![customer(1, AS_A), left(1, customer(2, AS_B))]),
            policy(),
            want(create("jane.doe")).add(&[1, 2], CustUser),
        ),
        case(
            "skipped: opted out of PeeringDB login",
            jane(&[AS_A, AS_B]),
            state(None, vec![customer(1, AS_A), opted_out(customer(2, AS_B))]),
            policy(),
            want(create("jane.doe"))
                .add(&[1], CustUser)
                .skip(2, WHY_OPTED_OUT),
        ),
        case(
            "new user, every candidate ineligible: refused, nothing created, reasons kept",
            jane(&[AS_A, AS_B]),
            state(
                None,
                vec![
                    kind(Associate, customer(1, AS_A)),
                    status(Suspended, customer(2, AS_B)),
                ],
            ),
            policy(),
            want(UserAction::Keep)
                .skip(1, WHY_ASSOCIATE)
                .skip(2, WHY_SUSPENDED)
                .skipped_for(1, ineligible(Ineligible::Type(Associate)))
                .skipped_for(2, ineligible(Ineligible::Status(Suspended)))
                .networks(&[
                    (1, Err(ineligible(Ineligible::Type(Associate)))),
                    (2, Err(ineligible(Ineligible::Status(Suspended)))),
                ])
                .refuse(NotEligible),
        ),
        // ---- §6.2: a customer whose link was removed by hand is not linked again
        case(
            "blocked by staff: skipped with the reason, the other customer linked",
            jane(&[AS_A, AS_B]),
            blocked(
                state(None, vec![customer(1, AS_A), customer(2, AS_B)]),
                &[(2, BlockedBy::Staff)],
            ),
            policy(),
            want(create("jane.doe"))
                .add(&[1], CustUser)
                .skip(2, WHY_BLOCKED_STAFF)
                .skipped_for(2, by_staff),
        ),
        case(
            "blocked by custadmin: an existing user is not linked again",
            jane(&[AS_A, AS_B]),
            blocked(
                state(
                    Some(user(vec![link(7, customer(1, AS_A), PeeringDb)])),
                    vec![customer(1, AS_A), customer(2, AS_B)],
                ),
                &[(2, BlockedBy::Custadmin)],
            ),
            policy(),
            want(update())
                .skip(2, WHY_BLOCKED_CUSTADMIN)
                .skipped_for(2, by_custadmin),
        ),
        case(
            "a block on one of two customers sharing an ASN: the other is linked",
            jane(&[AS_A]),
            blocked(
                state(None, vec![customer(1, AS_A), customer(2, AS_A)]),
                &[(1, BlockedBy::Custadmin)],
            ),
            custadmin(),
            want(create("jane.doe"))
                .add(&[2], CustAdmin)
                .skip(1, WHY_BLOCKED_CUSTADMIN)
                .skipped_for(1, by_custadmin),
        ),
        case(
            "blocked and ineligible: the block is the reason given",
            jane(&[AS_A, AS_B]),
            blocked(
                state(
                    None,
                    vec![customer(1, AS_A), status(Suspended, customer(2, AS_B))],
                ),
                &[(2, BlockedBy::Staff)],
            ),
            policy(),
            want(create("jane.doe"))
                .add(&[1], CustUser)
                .skip(2, WHY_BLOCKED_STAFF)
                .skipped_for(2, by_staff),
        ),
        case(
            "new user whose only match is blocked: refused as not eligible, nothing created",
            jane(&[AS_A]),
            blocked(
                state(None, vec![customer(1, AS_A)]),
                &[(1, BlockedBy::Staff)],
            ),
            policy(),
            want(UserAction::Keep)
                .skip(1, WHY_BLOCKED_STAFF)
                .skipped_for(1, by_staff)
                .networks(&[(1, Err(by_staff))])
                .refuse(NotEligible),
        ),
        case(
            "existing user whose only match is blocked: stale link removed, user deleted",
            jane(&[AS_A]),
            blocked(
                state(
                    Some(user(vec![link(7, customer(1, AS_B), PeeringDb)])),
                    vec![customer(2, AS_A)],
                ),
                &[(2, BlockedBy::Custadmin)],
            ),
            policy(),
            want(UserAction::Keep)
                .remove(7, "AS64501 is no longer among")
                .removed_for(7, left_profile(AS_B))
                .skip(2, WHY_BLOCKED_CUSTADMIN)
                .networks(&[(2, Err(by_custadmin))])
                .delete()
                .refuse(NotEligible),
        ),
        case(
            "a block on a customer outside the profile changes nothing",
            jane(&[AS_A]),
            blocked(
                state(None, vec![customer(1, AS_A), customer(3, AS_C)]),
                &[(3, BlockedBy::Staff)],
            ),
            policy(),
            want(create("jane.doe"))
                .add(&[1], CustUser)
                .networks(&[(1, Ok(true))]),
        ),
        case(
            "a blocked customer linked by an admin stays linked, listed as linked already",
            jane(&[AS_A]),
            blocked(
                state(
                    Some(user(vec![link(7, customer(1, AS_A), Admin)])),
                    vec![customer(1, AS_A)],
                ),
                &[(1, BlockedBy::Staff)],
            ),
            policy(),
            want(update()).networks(&[(1, Ok(false))]),
        ),
        // ---- the IXP Manager cases
        case(
            "IXP Manager (a): opted-out customer of the first network refused, a later one linked",
            jane(&[AS_A, AS_B, AS_C]),
            state(None, vec![opted_out(customer(9, AS_A)), customer(2, AS_C)]),
            policy(),
            want(create("jane.doe"))
                .add(&[2], CustUser)
                .skip(9, WHY_OPTED_OUT),
        ),
        case(
            "IXP Manager (b): every customer sharing an affiliated ASN is linked",
            jane(&[AS_A]),
            state(
                None,
                vec![customer(1, AS_A), customer(2, AS_A), customer(3, AS_A)],
            ),
            custadmin(),
            want(create("jane.doe")).add(&[1, 2, 3], CustAdmin),
        ),
        case(
            "IXP Manager (b): customers sharing an ASN are judged one by one",
            jane(&[AS_A]),
            state(
                None,
                vec![
                    customer(1, AS_A),
                    opted_out(customer(2, AS_A)),
                    kind(ProBono, customer(3, AS_A)),
                    status(Suspended, customer(4, AS_A)),
                ],
            ),
            policy(),
            want(create("jane.doe"))
                .add(&[1, 3], CustUser)
                .skip(2, WHY_OPTED_OUT)
                .skip(4, WHY_SUSPENDED),
        ),
        case(
            "IXP Manager (b): an existing user gets the other customers of a shared ASN",
            jane(&[AS_A]),
            state(
                Some(user(vec![link(7, customer(1, AS_A), PeeringDb)])),
                vec![customer(1, AS_A), customer(2, AS_A), customer(3, AS_A)],
            ),
            policy(),
            want(update()).add(&[2, 3], CustUser),
        ),
        case(
            "IXP Manager (c): OAuth link to a since suspended customer removed",
            jane(&[AS_A, AS_B]),
            state(
                Some(user(vec![
                    link(7, status(Suspended, customer(1, AS_A)), PeeringDb),
                    link(8, customer(2, AS_B), PeeringDb),
                ])),
                vec![status(Suspended, customer(1, AS_A)), customer(2, AS_B)],
            ),
            policy(),
            want(update()).remove(7, WHY_SUSPENDED),
        ),
        case(
            "IXP Manager (c): OAuth link to a since cancelled customer removed",
            jane(&[AS_A, AS_B]),
            state(
                Some(user(vec![
                    link(7, left(0, customer(1, AS_A)), PeeringDb),
                    link(8, customer(2, AS_B), PeeringDb),
                ])),
                vec![left(0, customer(1, AS_A)), customer(2, AS_B)],
            ),
            policy(),
            want(update()).remove(7, WHY_CANCELLED),
        ),
        case(
            "IXP Manager (c): OAuth link to a customer that changed type removed",
            jane(&[AS_A, AS_B]),
            state(
                Some(user(vec![
                    link(7, kind(Associate, customer(1, AS_A)), PeeringDb),
                    link(8, customer(2, AS_B), PeeringDb),
                ])),
                vec![kind(Associate, customer(1, AS_A)), customer(2, AS_B)],
            ),
            policy(),
            want(update()).remove(7, WHY_ASSOCIATE),
        ),
        case(
            "IXP Manager (c): OAuth link to a customer that opted out removed",
            jane(&[AS_A, AS_B]),
            state(
                Some(user(vec![
                    link(7, opted_out(customer(1, AS_A)), PeeringDb),
                    link(8, customer(2, AS_B), PeeringDb),
                ])),
                vec![opted_out(customer(1, AS_A)), customer(2, AS_B)],
            ),
            policy(),
            want(update()).remove(7, WHY_OPTED_OUT),
        ),
        case(
            "IXP Manager (c): OAuth link whose ASN left the profile removed",
            jane(&[AS_B]),
            state(
                Some(user(vec![
                    link(7, customer(1, AS_C), PeeringDb),
                    link(8, customer(2, AS_B), PeeringDb),
                ])),
                // Customers of other ASNs may be given; they are ignored.
                vec![customer(1, AS_C), customer(2, AS_B)],
            ),
            policy(),
            want(update()).remove(7, "AS64502 is no longer among"),
        ),
        case(
            "IXP Manager (c): every reason at once, a new customer still linked",
            jane(&[AS_A, AS_B]),
            state(
                Some(user(vec![
                    link(11, status(Suspended, customer(1, AS_A)), PeeringDb),
                    link(12, left(-30, customer(2, AS_A)), PeeringDb),
                    link(13, kind(Internal, customer(3, AS_A)), PeeringDb),
                    link(14, opted_out(customer(4, AS_B)), PeeringDb),
                    link(15, customer(5, AS_C), PeeringDb),
                ])),
                vec![
                    status(Suspended, customer(1, AS_A)),
                    left(-30, customer(2, AS_A)),
                    kind(Internal, customer(3, AS_A)),
                    opted_out(customer(4, AS_B)),
                    customer(6, AS_B),
                ],
            ),
            policy(),
            want(update())
                .remove(11, WHY_SUSPENDED)
                .remove(12, WHY_CANCELLED)
                .remove(13, WHY_INTERNAL)
                .remove(14, WHY_OPTED_OUT)
                .remove(15, "AS64502 is no longer among")
                .removed_for(11, ineligible(Ineligible::Status(Suspended)))
                .removed_for(12, ineligible(Ineligible::Cancelled))
                .removed_for(13, ineligible(Ineligible::Type(Internal)))
                .removed_for(14, ineligible(Ineligible::OptedOut))
                .removed_for(15, left_profile(AS_C))
                .add(&[6], CustUser),
        ),
        case(
            "removal causes: a departed ASN is named even when the customer is also ineligible",
            jane(&[AS_A]),
            state(
                Some(user(vec![
                    link(7, customer(1, AS_C), PeeringDb),
                    link(8, status(Suspended, customer(2, AS_A)), PeeringDb),
                    link(9, opted_out(customer(3, AS_B)), PeeringDb),
                    link(10, customer(4, AS_A), PeeringDb),
                ])),
                vec![status(Suspended, customer(2, AS_A)), customer(4, AS_A)],
            ),
            policy(),
            want(update())
                .remove(7, "AS64502 is no longer among")
                .remove(8, WHY_SUSPENDED)
                .remove(9, "AS64501 is no longer among")
                .removed_for(7, left_profile(AS_C))
                .removed_for(8, ineligible(Ineligible::Status(Suspended)))
                .removed_for(9, left_profile(AS_B))
                .networks(&[
                    (2, Err(ineligible(Ineligible::Status(Suspended)))),
                    (4, Ok(false)),
                ]),
        ),
        case(
            "with a profile, age does not matter: an old or never confirmed link it lists is kept",
            jane(&[AS_A, AS_B]),
            state(
                Some(user(vec![
                    aged(10 * MAX_AGE, link(7, customer(1, AS_A), PeeringDb)),
                    never_confirmed(link(8, customer(2, AS_B), PeeringDb)),
                ])),
                vec![customer(1, AS_A), customer(2, AS_B)],
            ),
            policy(),
            want(update()).networks(&[(1, Ok(false)), (2, Ok(false))]),
        ),
        // ---- admin and CLI links
        case(
            "admin and cli links survive ineligibility and a departed ASN",
            jane(&[AS_A]),
            state(
                Some(user(vec![
                    link(7, customer(1, AS_C), Admin),
                    link(8, status(Suspended, customer(2, AS_A)), Cli),
                    link(9, opted_out(customer(3, AS_A)), Admin),
                    link(10, customer(4, AS_A), PeeringDb),
                ])),
                vec![
                    status(Suspended, customer(2, AS_A)),
                    opted_out(customer(3, AS_A)),
                    customer(4, AS_A),
                ],
            ),
            policy(),
            want(update()),
        ),
        case(
            "an admin link keeps the user alive once the OAuth links are gone",
            jane(&[AS_A]),
            state(
                Some(user(vec![
                    link(7, status(Suspended, customer(1, AS_A)), PeeringDb),
                    link(8, kind(Associate, customer(2, AS_C)), Admin),
                ])),
                vec![status(Suspended, customer(1, AS_A))],
            ),
            policy(),
            want(update()).remove(7, WHY_SUSPENDED),
        ),
        case(
            "no match: a cli link keeps the user alive, stale OAuth link removed",
            jane(&[AS_NOBODY]),
            state(
                Some(user(vec![
                    link(7, customer(1, AS_B), PeeringDb),
                    link(8, customer(2, AS_A), Cli),
                ])),
                vec![],
            ),
            policy(),
            want(UserAction::Keep)
                .remove(7, "AS64501 is no longer among")
                .refuse(NoMatch),
        ),
        case(
            "no match: an admin link to an ineligible customer is kept, user not deleted",
            jane(&[]),
            state(
                Some(user(vec![link(
                    8,
                    status(Suspended, customer(2, AS_A)),
                    Admin,
                )])),
                vec![],
            ),
            policy(),
            nothing(NoMatch),
        ),
        // ---- step 3: affiliated ASNs
        case(
            "duplicate ASNs are folded",
            jane(&[AS_A, AS_A, AS_B, AS_A]),
            state(None, vec![customer(1, AS_A), customer(2, AS_B)]),
            policy(),
            want(create("jane.doe")).add(&[1, 2], CustUser),
        ),
        case(
            "invalid ASNs are skipped",
            from_json(
                r#"{"id": 3, "name": "Jane Doe", "email": "jane@example.net",
                    "verified_user": true, "verified_email": true,
                    "networks": [{"asn": 0}, {"asn": -64500}, {"asn": 4294967296},
                                 {"asn": "64500"}, {"asn": 64500.5}, {"asn": null}, {"id": 1},
                                 "64500", {"asn": 64501}]}"#,
            ),
            state(None, vec![customer(1, AS_A), customer(2, AS_B)]),
            policy(),
            want(create("jane.doe")).add(&[2], CustUser),
        ),
        case(
            "only invalid ASNs: refused, nothing created",
            from_json(
                r#"{"id": 3, "name": "Jane Doe", "verified_user": true, "verified_email": true,
                    "networks": [{"asn": 0}, {"asn": 4294967296}, {"asn": "64500"}]}"#,
            ),
            state(None, vec![customer(1, AS_A)]),
            policy(),
            nothing(NoMatch),
        ),
        case(
            "the largest ASN is valid",
            jane(&[4_294_967_295]),
            state(None, vec![customer(1, 4_294_967_295)]),
            policy(),
            want(create("jane.doe")).add(&[1], CustUser),
        ),
        // ---- step 3: no customer matches
        case(
            "no match, no user: nothing created",
            jane(&[AS_NOBODY]),
            state(None, vec![customer(1, AS_A)]),
            policy(),
            nothing(NoMatch),
        ),
        case(
            "no networks at all, no user: nothing created",
            jane(&[]),
            state(None, vec![]),
            policy(),
            nothing(NoMatch),
        ),
        case(
            "no match: existing user loses the stale OAuth link and is deleted",
            jane(&[AS_NOBODY]),
            state(
                Some(user(vec![link(7, customer(1, AS_A), PeeringDb)])),
                vec![],
            ),
            policy(),
            want(UserAction::Keep)
                .remove(7, "AS64500 is no longer among")
                .delete()
                .refuse(NoMatch),
        ),
        case(
            "no match: existing user with no link at all is deleted",
            jane(&[AS_NOBODY]),
            state(Some(user(vec![])), vec![]),
            policy(),
            want(UserAction::Keep).delete().refuse(NoMatch),
        ),
        case(
            "no match: a superuser loses the stale OAuth link but is never deleted",
            jane(&[AS_NOBODY]),
            state(
                Some(superuser(vec![link(7, customer(1, AS_A), PeeringDb)])),
                vec![],
            ),
            policy(),
            want(UserAction::Keep)
                .remove(7, "AS64500 is no longer among")
                .refuse(NoMatch),
        ),
        // ---- step 8: left with no link
        case(
            "user left with no link after removals is deleted",
            jane(&[AS_A]),
            state(
                Some(user(vec![link(
                    7,
                    status(Suspended, customer(1, AS_A)),
                    PeeringDb,
                )])),
                vec![status(Suspended, customer(1, AS_A))],
            ),
            policy(),
            want(UserAction::Keep)
                .remove(7, WHY_SUSPENDED)
                .delete()
                .refuse(NotEligible),
        ),
        case(
            "superuser left with no link is kept, the login refused",
            jane(&[AS_A]),
            state(
                Some(superuser(vec![link(
                    7,
                    status(Suspended, customer(1, AS_A)),
                    PeeringDb,
                )])),
                vec![status(Suspended, customer(1, AS_A))],
            ),
            policy(),
            want(UserAction::Keep)
                .remove(7, WHY_SUSPENDED)
                .refuse(NotEligible),
        ),
        case(
            "existing user without links and only ineligible candidates is deleted",
            jane(&[AS_A]),
            state(Some(user(vec![])), vec![opted_out(customer(1, AS_A))]),
            policy(),
            want(UserAction::Keep)
                .skip(1, WHY_OPTED_OUT)
                .delete()
                .refuse(NotEligible),
        ),
        // ---- disabled users
        case(
            "disabled user: refused",
            jane(&[AS_A]),
            state(
                Some(disabled(vec![link(7, customer(1, AS_A), PeeringDb)])),
                vec![customer(1, AS_A)],
            ),
            policy(),
            want(update()).networks(&[(1, Ok(false))]).refuse(Disabled),
        ),
        case(
            "disabled user left with no link is deleted like any other",
            jane(&[AS_A]),
            state(
                Some(disabled(vec![link(7, customer(1, AS_B), PeeringDb)])),
                vec![kind(Internal, customer(2, AS_A))],
            ),
            policy(),
            want(UserAction::Keep)
                .remove(7, "AS64501 is no longer among")
                .skip(2, WHY_INTERNAL)
                .delete()
                .refuse(NotEligible),
        ),
        // ---- what the person is told about each of their networks
        case(
            "networks: every customer of the profile with its outcome, by name then id",
            jane(&[AS_A, AS_B]),
            blocked(
                state(
                    Some(user(vec![
                        link(6, status(Suspended, customer(3, AS_B)), PeeringDb),
                        link(7, customer(1, AS_A), PeeringDb),
                        // Outside the profile: kept, never listed.
                        link(8, customer(9, AS_C), Admin),
                    ])),
                    vec![
                        customer(1, AS_A),
                        customer(10, AS_A),
                        customer(2, AS_A),
                        status(Suspended, customer(3, AS_B)),
                        named("Beta", customer(12, AS_B)),
                        named("Beta", kind(Associate, customer(5, AS_B))),
                        // Given, but not among the profile's networks.
                        customer(9, AS_C),
                        customer(11, AS_NOBODY),
                    ],
                ),
                &[(12, BlockedBy::Custadmin), (11, BlockedBy::Staff)],
            ),
            policy(),
            want(update())
                .add(&[2, 10], CustUser)
                .remove(6, WHY_SUSPENDED)
                .skip(5, WHY_ASSOCIATE)
                .skip(12, WHY_BLOCKED_CUSTADMIN)
                .networks(&[
                    (5, Err(ineligible(Ineligible::Type(Associate)))),
                    (12, Err(by_custadmin)),
                    (1, Ok(false)),
                    (10, Ok(true)),
                    (2, Ok(true)),
                    (3, Err(ineligible(Ineligible::Status(Suspended)))),
                ]),
        ),
        case(
            "networks: a customer given twice is linked and listed once",
            jane(&[AS_A]),
            state(None, vec![customer(1, AS_A), customer(1, AS_A)]),
            policy(),
            want(create("jane.doe"))
                .add(&[1], CustUser)
                .networks(&[(1, Ok(true))]),
        ),
        case(
            "networks: none when no customer matches",
            jane(&[AS_NOBODY]),
            state(
                Some(user(vec![link(8, customer(2, AS_A), Cli)])),
                vec![customer(2, AS_A)],
            ),
            policy(),
            nothing(NoMatch).networks(&[]),
        ),
        case(
            "networks: none after an early refusal",
            unverified(jane(&[AS_A]), false, true),
            state(None, vec![customer(1, AS_A)]),
            policy(),
            nothing(Unverified).networks(&[]),
        ),
    ]
}

/// Compares a plan with the expected facts; returns what differs.
fn differences(c: &Case, plan: &Plan) -> Vec<String> {
    let mut out = plan_differences(&c.want, &c.state, plan);
    if plan.peeringdb_id != c.profile.id {
        out.push(format!("peeringdb_id {}", plan.peeringdb_id));
    }
    let early = matches!(
        plan.refusal,
        Some(Refusal::Unverified | Refusal::MfaRequired)
    );
    if early && plan.changes_anything() {
        out.push("an early refusal changes something".into());
    }
    // The networks: the distinct customers of the profile's ASNs (none
    // after an early refusal), by name then id.
    let asns: HashSet<Asn> = c.profile.affiliated_asns().into_iter().collect();
    let mut want_ids: Vec<i64> = c
        .state
        .customers
        .iter()
        .filter(|k| !early && asns.contains(&k.asn))
        .map(|k| k.id)
        .collect();
    want_ids.sort();
    want_ids.dedup();
    let mut ids: Vec<i64> = plan.networks.iter().map(|n| n.customer_id).collect();
    ids.sort();
    if ids != want_ids {
        out.push(format!("networks of customers {ids:?}, want {want_ids:?}"));
    }
    let by_name = plan
        .networks
        .windows(2)
        .all(|p| (&p[0].customer_name, p[0].customer_id) < (&p[1].customer_name, p[1].customer_id));
    if !by_name {
        out.push(format!("networks not by name then id: {:?}", plan.networks));
    }
    out
}

/// Compares a plan with the expected facts, whatever made the plan.
fn plan_differences(w: &Want, state: &State, plan: &Plan) -> Vec<String> {
    let mut out = Vec::new();
    if plan.user != w.user {
        out.push(format!("user {:?}, want {:?}", plan.user, w.user));
    }

    let mut add: Vec<(i64, Privilege)> = plan
        .add
        .iter()
        .map(|a| (a.customer_id, a.privilege))
        .collect();
    add.sort_by_key(|a| a.0);
    let mut want_add = w.add.clone();
    want_add.sort_by_key(|a| a.0);
    if add != want_add {
        out.push(format!("add {add:?}, want {want_add:?}"));
    }
    for a in &plan.add {
        let known = state
            .customers
            .iter()
            .any(|k| k.id == a.customer_id && k.asn == a.asn && k.name == a.customer_name);
        if !known {
            out.push(format!("add {a:?} does not describe its customer"));
        }
    }

    let mut remove: Vec<(i64, &str)> = plan
        .remove
        .iter()
        .map(|r| (r.affiliation_id, r.reason.as_str()))
        .collect();
    remove.sort_by_key(|r| r.0);
    let mut want_remove = w.remove.clone();
    want_remove.sort_by_key(|r| r.0);
    let same_removals = remove.len() == want_remove.len()
        && remove
            .iter()
            .zip(&want_remove)
            .all(|((id, why), (want_id, want_why))| id == want_id && why.contains(want_why));
    if !same_removals {
        out.push(format!("remove {remove:?}, want {want_remove:?}"));
    }

    let mut skipped: Vec<(i64, &str)> = plan
        .skipped
        .iter()
        .map(|s| (s.customer_id, s.reason.as_str()))
        .collect();
    skipped.sort_by_key(|s| s.0);
    let mut want_skipped = w.skipped.clone();
    want_skipped.sort_by_key(|s| s.0);
    let same_skips = skipped.len() == want_skipped.len()
        && skipped
            .iter()
            .zip(&want_skipped)
            .all(|((id, why), (want_id, want_why))| id == want_id && why.contains(want_why));
    if !same_skips {
        out.push(format!("skipped {skipped:?}, want {want_skipped:?}"));
    }

    if plan.delete_user != w.delete_user {
        out.push(format!(
            "delete_user {:?}, want {:?}",
            plan.delete_user, w.delete_user
        ));
    }
    if plan.refusal != w.refusal {
        out.push(format!("refusal {:?}, want {:?}", plan.refusal, w.refusal));
    }

    // The audit text is the cause's, and the causes are the expected ones.
    for r in &plan.remove {
        if r.reason != r.cause.audit() {
            out.push(format!("removal {r:?}: the reason is not its cause's"));
        }
    }
    for k in &plan.skipped {
        if k.reason != k.cause.audit() {
            out.push(format!("skip {k:?}: the reason is not its cause's"));
        }
    }
    for &(id, cause) in &w.remove_causes {
        match plan.remove.iter().find(|r| r.affiliation_id == id) {
            Some(r) if r.cause == cause => {}
            Some(r) => out.push(format!("removal {id}: cause {:?}, want {cause:?}", r.cause)),
            None => out.push(format!("removal {id} missing, want cause {cause:?}")),
        }
    }
    for &(id, cause) in &w.skip_causes {
        match plan.skipped.iter().find(|k| k.customer_id == id) {
            Some(k) if k.cause == cause => {}
            Some(k) => out.push(format!("skip {id}: cause {:?}, want {cause:?}", k.cause)),
            None => out.push(format!("skip {id} missing, want cause {cause:?}")),
        }
    }

    for n in &plan.networks {
        let known = state
            .customers
            .iter()
            .any(|k| k.id == n.customer_id && k.asn == n.asn && k.name == n.customer_name);
        if !known {
            out.push(format!("network {n:?} does not describe its customer"));
        }
    }
    if let Some(want_networks) = &w.networks {
        let networks: Vec<(i64, Result<bool, Cause>)> = plan
            .networks
            .iter()
            .map(|n| (n.customer_id, n.linked))
            .collect();
        if networks != *want_networks {
            out.push(format!("networks {networks:?}, want {want_networks:?}"));
        }
    }
    out
}

#[test]
fn reconcile_table() {
    let cases = table();
    let mut names = HashSet::new();
    let mut failures = Vec::new();
    for c in &cases {
        assert!(names.insert(c.name), "duplicate case name {:?}", c.name);
        let plan = reconcile(&c.profile, &c.state, &c.policy);
        let diff = differences(c, &plan);
        if !diff.is_empty() {
            failures.push(format!("{}:\n    {}", c.name, diff.join("\n    ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

// -------------------------------------------------- expiry without a profile

/// A sign-in without a profile (§6.4): only the link age counts.
struct Expiry {
    name: &'static str,
    state: State,
    policy: Policy,
    want: Want,
}

fn expiry(name: &'static str, state: State, policy: Policy, want: Want) -> Expiry {
    Expiry {
        name,
        state,
        policy,
        want,
    }
}

fn expiry_table() -> Vec<Expiry> {
    use CreatedBy::{Admin, Cli, PeeringDb};
    use CustomerStatus::Suspended;
    use Refusal::Unconfirmed;
    let unconfirmed = Cause::Unconfirmed {
        max_age_seconds: MAX_AGE,
    };
    // A second link that keeps the user alive.
    let fresh = || link(9, customer(9, AS_C), PeeringDb);

    vec![
        expiry(
            "a link confirmed just now is kept",
            state(
                Some(user(vec![link(7, customer(1, AS_A), PeeringDb)])),
                vec![],
            ),
            policy(),
            want(UserAction::Keep),
        ),
        expiry(
            "a link one second younger than the maximum age is kept",
            state(
                Some(user(vec![aged(
                    MAX_AGE - 1,
                    link(7, customer(1, AS_A), PeeringDb),
                )])),
                vec![],
            ),
            policy(),
            want(UserAction::Keep),
        ),
        expiry(
            "a link exactly the maximum age old is kept",
            state(
                Some(user(vec![aged(
                    MAX_AGE,
                    link(7, customer(1, AS_A), PeeringDb),
                )])),
                vec![],
            ),
            policy(),
            want(UserAction::Keep),
        ),
        expiry(
            "a link one second older than the maximum age is removed, with the reason",
            state(
                Some(user(vec![
                    aged(MAX_AGE + 1, link(7, customer(1, AS_A), PeeringDb)),
                    fresh(),
                ])),
                vec![],
            ),
            policy(),
            want(UserAction::Keep)
                .remove(7, WHY_UNCONFIRMED)
                .removed_for(7, unconfirmed),
        ),
        expiry(
            "a link never confirmed is removed",
            state(
                Some(user(vec![
                    never_confirmed(link(7, customer(1, AS_A), PeeringDb)),
                    fresh(),
                ])),
                vec![],
            ),
            policy(),
            want(UserAction::Keep)
                .remove(7, WHY_UNCONFIRMED)
                .removed_for(7, unconfirmed),
        ),
        expiry(
            "a confirmation in the future (a clock set back) is kept",
            state(
                Some(user(vec![aged(
                    -3_600,
                    link(7, customer(1, AS_A), PeeringDb),
                )])),
                vec![],
            ),
            policy(),
            want(UserAction::Keep),
        ),
        expiry(
            "only the age counts: a fresh link to an ineligible customer is kept",
            state(
                Some(user(vec![link(
                    7,
                    status(Suspended, customer(1, AS_A)),
                    PeeringDb,
                )])),
                vec![],
            ),
            policy(),
            want(UserAction::Keep),
        ),
        expiry(
            "admin and cli links are never removed, however old",
            state(
                Some(user(vec![
                    never_confirmed(link(7, customer(1, AS_A), Admin)),
                    aged(10 * MAX_AGE, link(8, customer(2, AS_B), Cli)),
                    aged(MAX_AGE + 1, link(9, customer(3, AS_C), Admin)),
                    aged(MAX_AGE + 1, link(10, customer(4, AS_C), PeeringDb)),
                ])),
                vec![],
            ),
            policy(),
            want(UserAction::Keep)
                .remove(10, WHY_UNCONFIRMED)
                .removed_for(10, unconfirmed),
        ),
        expiry(
            "the last link removed: the user is deleted and the sign-in refused",
            state(
                Some(user(vec![aged(
                    MAX_AGE + 1,
                    link(7, customer(1, AS_A), PeeringDb),
                )])),
                vec![],
            ),
            policy(),
            want(UserAction::Keep)
                .remove(7, WHY_UNCONFIRMED)
                .delete()
                .refuse(Unconfirmed),
        ),
        expiry(
            "every link too old: all removed, the user deleted",
            state(
                Some(user(vec![
                    never_confirmed(link(7, customer(1, AS_A), PeeringDb)),
                    aged(365 * DAY, link(8, customer(2, AS_B), PeeringDb)),
                ])),
                vec![],
            ),
            policy(),
            want(UserAction::Keep)
                .remove(7, WHY_UNCONFIRMED)
                .remove(8, WHY_UNCONFIRMED)
                .delete()
                .refuse(Unconfirmed),
        ),
        expiry(
            "a superuser losing the last link is refused but never deleted",
            state(
                Some(superuser(vec![aged(
                    MAX_AGE + 1,
                    link(7, customer(1, AS_A), PeeringDb),
                )])),
                vec![],
            ),
            policy(),
            want(UserAction::Keep)
                .remove(7, WHY_UNCONFIRMED)
                .refuse(Unconfirmed),
        ),
        expiry(
            "a user without any link is left alone",
            state(Some(user(vec![])), vec![]),
            policy(),
            want(UserAction::Keep),
        ),
        expiry(
            "a user with only admin links is left alone",
            state(
                Some(user(vec![never_confirmed(link(
                    7,
                    customer(1, AS_A),
                    Admin,
                ))])),
                vec![],
            ),
            policy(),
            want(UserAction::Keep),
        ),
        expiry(
            "no user: nothing happens",
            state(None, vec![customer(1, AS_A)]),
            policy(),
            want(UserAction::Keep),
        ),
        expiry(
            "the configured age decides and is named in the reason",
            state(
                Some(user(vec![
                    aged(13 * 3_600, link(7, customer(1, AS_A), PeeringDb)),
                    aged(11 * 3_600, link(8, customer(2, AS_B), PeeringDb)),
                ])),
                vec![],
            ),
            Policy {
                max_link_age: 12 * 3_600,
                ..policy()
            },
            want(UserAction::Keep)
                .remove(
                    7,
                    "not confirmed by PeeringDB for 12 hours: sign in with PeeringDB to restore it",
                )
                .removed_for(
                    7,
                    Cause::Unconfirmed {
                        max_age_seconds: 12 * 3_600,
                    },
                ),
        ),
    ]
}

#[test]
fn expire_table() {
    let cases = expiry_table();
    let mut names = HashSet::new();
    let mut failures = Vec::new();
    for c in &cases {
        assert!(names.insert(c.name), "duplicate case name {:?}", c.name);
        let plan = expire(&c.state, &c.policy);
        let mut diff = plan_differences(&c.want, &c.state, &plan);
        if !plan.networks.is_empty() {
            diff.push(format!("networks {:?} without a profile", plan.networks));
        }
        if !diff.is_empty() {
            failures.push(format!("{}:\n    {}", c.name, diff.join("\n    ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// `expire` refuses only when it removed the last link (and the password
/// sign-in refuses a disabled user by itself): a disabled user whose links
/// are all confirmed, or who has none, gets no refusal from it.
#[test]
fn expire_gives_a_disabled_user_no_refusal() {
    for links in [
        vec![],
        vec![link(7, customer(1, AS_A), CreatedBy::PeeringDb)],
    ] {
        let plan = expire(&state(Some(disabled(links)), vec![]), &policy());
        assert_eq!(plan.refusal, None, "{plan:?}");
        assert!(!plan.changes_anything());
    }
}

#[test]
fn expire_boundary_is_is_unconfirmed() {
    let p = policy();
    let at = |seconds| aged(seconds, link(7, customer(1, AS_A), CreatedBy::PeeringDb));
    assert!(!at(MAX_AGE - 1).is_unconfirmed(&p));
    assert!(!at(MAX_AGE).is_unconfirmed(&p));
    assert!(at(MAX_AGE + 1).is_unconfirmed(&p));
    assert!(never_confirmed(at(0)).is_unconfirmed(&p));
    for by in [CreatedBy::Admin, CreatedBy::Cli] {
        let l = never_confirmed(link(7, customer(1, AS_A), by));
        assert!(!l.is_unconfirmed(&p), "{by:?}");
    }
}

#[test]
fn reconcile_refusal_messages_are_the_spec_ones() {
    assert_eq!(Refusal::Unverified.message(), super::super::MSG_UNVERIFIED);
    assert!(
        Refusal::Unverified
            .message()
            .starts_with("Your PeeringDB user or email address has not been verified.")
    );
    assert!(
        Refusal::NoMatch
            .message()
            .starts_with("Login with PeeringDB failed: no member of this IXP matches")
    );
    let all = [
        Refusal::Unverified,
        Refusal::MfaRequired,
        Refusal::NoMatch,
        Refusal::NotEligible,
        Refusal::Unconfirmed,
        Refusal::Disabled,
    ];
    let messages: HashSet<&str> = all.iter().map(|r| r.message()).collect();
    assert_eq!(messages.len(), all.len());
    let codes: HashSet<&str> = all.iter().map(|r| r.code()).collect();
    assert_eq!(codes.len(), all.len());
    assert!(all.iter().all(|r| !r.message().is_empty()));
}

#[test]
fn reconcile_is_deterministic_and_ignores_network_order() {
    let s = state(
        Some(user(vec![link(7, customer(1, AS_C), CreatedBy::PeeringDb)])),
        vec![customer(2, AS_A), customer(3, AS_B), customer(4, AS_A)],
    );
    let forward = reconcile(&jane(&[AS_A, AS_B, AS_C]), &s, &policy());
    let backward = reconcile(&jane(&[AS_C, AS_B, AS_A, AS_B]), &s, &policy());
    assert_eq!(forward, backward);
    assert_eq!(
        forward,
        reconcile(&jane(&[AS_A, AS_B, AS_C]), &s, &policy())
    );
}

// ----------------------------------------------------------- property tests
//
// The strategies pick from small tables by index rather than through regular
// expressions: proptest's string generation is slow in a debug build, and
// small pools make profiles and customers meet often.

/// ASNs that customers carry, so that profiles match them often.
const POOL: [i64; 4] = [64500, 64501, 64502, 64503];
/// The ASN of customers a user may be linked to but no profile names.
const OUTSIDE: i64 = 65100;
/// What a profile's network entry carries: mostly customers' ASNs, some
/// valid ASNs of nobody, some invalid ones (skipped by the parser).
const NETWORK_ASNS: [i64; 14] = [
    64500,
    64501,
    64502,
    64503,
    64500,
    64501,
    64502,
    64503, // customers'
    65000,
    4_294_967_295, // valid, nobody's
    0,
    -1,
    4_294_967_296,
    i64::MIN, // invalid
];

/// Characters of generated names: ASCII of every class, whitespace,
/// punctuation, accented and multi-char-lowercase letters, CJK, emoji,
/// combining marks, control and zero-width characters.
const NAME_CHARS: &[char] = &[
    'a', 'e', 'j', 'n', 'o', 'z', 'A', 'D', 'J', 'Z', '0', '1', '9', '.', '_', '-', ' ', ' ', '\t',
    '\n', '\'', '"', '@', '!', '/', '\\', '(', ')', '+', '%', '<', '&', 'é', 'Ä', 'ü', 'ß', 'Ø',
    'İ', 'ǅ', 'Σ', 'ﬁ', '\u{212A}', '名', '前', '😀', '\u{301}', '\u{0}', '\u{7f}', '\u{200b}',
    '\u{feff}',
];

const FIXED_NAMES: &[&str] = &[
    "Jane Doe",
    "jane.doe",
    "Jürgen Müller",
    "İstanbul IX",
    "  ",
    ".",
    "unknownpdbuser",
    "UNKNOWNPDBUSER",
    "名前",
    "Zoë O'Brien-Smith_2",
];

const GIVEN_NAMES: &[Option<&str>] = &[None, Some(""), Some("Jane"), Some("Zoë"), Some(" ")];
const FAMILY_NAMES: &[Option<&str>] = &[None, Some(""), Some("Doe"), Some("O'Brien"), Some("名")];
const EMAILS: &[Option<&str>] = &[
    None,
    Some(""),
    Some(" \t"),
    Some("jane@example.net"),
    Some("zoe@example.org"),
    Some("Jane.Doe+pdb@Example.NET"),
];
const AMR_METHODS: &[&str] = &["mfa", "pwd", "otp", "MFA", "hwk", ""];
const TYPICAL_AMR: &[&[&str]] = &[&["pwd", "mfa"], &["mfa"], &["pwd"]];
const OTHER_USERNAMES: &[&str] = &["admin", "jane.doe", "unknownpdbuser2", ".", "x"];

fn allowed_username_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
}

/// `^[a-z0-9._-]+$`
fn is_valid_username(s: &str) -> bool {
    !s.is_empty() && s.chars().all(allowed_username_char)
}

fn arb_text(max_len: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(NAME_CHARS), 0..max_len)
        .prop_map(|chars| chars.into_iter().collect())
}

fn arb_name() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        1 => Just(None),
        1 => Just(Some(String::new())),
        6 => arb_text(24).prop_map(Some),
        2 => prop::sample::select(FIXED_NAMES).prop_map(|n| Some(n.to_string())),
        // Long enough to be cut short, in ASCII or not.
        1 => (prop::sample::select(&['a', 'Z', 'é', '.'][..]), 200usize..300)
            .prop_map(|(c, n)| Some(c.to_string().repeat(n))),
    ]
}

fn arb_network() -> impl Strategy<Value = Network> {
    (0..NETWORK_ASNS.len()).prop_map(|i| Network {
        id: Some(i as i64 + 1),
        asn: Asn::new(NETWORK_ASNS[i]),
        name: Some(format!("Network {}", NETWORK_ASNS[i])),
        perms: Some(15),
        manage_peering_sessions: None,
    })
}

fn arb_amr() -> impl Strategy<Value = Option<Vec<String>>> {
    let methods = |m: &[&str]| m.iter().map(|m| m.to_string()).collect::<Vec<_>>();
    prop_oneof![
        1 => Just(None),
        2 => prop::sample::select(TYPICAL_AMR)
            .prop_map(move |m| Some(methods(m))),
        2 => prop::collection::vec(prop::sample::select(AMR_METHODS).prop_map(String::from), 0..4)
            .prop_map(Some),
    ]
}

fn arb_profile() -> impl Strategy<Value = Profile> {
    let text = |o: Option<&str>| o.map(str::to_string);
    (
        1i64..1_000_000_000,
        arb_name(),
        (
            prop::sample::select(GIVEN_NAMES),
            prop::sample::select(FAMILY_NAMES),
            prop::sample::select(EMAILS),
        ),
        // verified_user, verified_email: each true 19 times in 20.
        (0u8..20, 0u8..20),
        prop::collection::vec(arb_network(), 0..6),
        arb_amr(),
    )
        .prop_map(
            move |(id, name, (given, family, email), (vu, ve), networks, amr)| Profile {
                id,
                name,
                given_name: text(given),
                family_name: text(family),
                email: text(email),
                verified_user: vu != 0,
                verified_email: ve != 0,
                networks,
                amr,
            },
        )
}

/// Customers' names: shared by several, and in another order than ids.
const CUSTOMER_NAMES: &[&str] = &["Zeta Net", "Alpha", "alpha", "Alpha", "Mü Networks"];

/// A customer without an id (the scenario gives it). About one in four is
/// eligible; every way of being ineligible occurs.
fn arb_customer(asns: Vec<i64>) -> impl Strategy<Value = CustomerFacts> {
    (
        prop::sample::select(asns),
        0u8..6,
        0u8..6,
        0i64..24,
        0u8..20,
        prop::sample::select(CUSTOMER_NAMES),
    )
        .prop_map(|(value, kind, status, left, oauth, name)| CustomerFacts {
            id: 0,
            name: name.to_string(),
            shortname: String::new(),
            asn: asn(value),
            kind: match kind {
                0..=2 => CustomerType::Full,
                3 => CustomerType::ProBono,
                4 => CustomerType::Associate,
                _ => CustomerType::Internal,
            },
            status: match status {
                0..=3 => CustomerStatus::Normal,
                4 => CustomerStatus::NotConnected,
                _ => CustomerStatus::Suspended,
            },
            // From three days ago to three days ahead, or none.
            date_left: (left < 7).then(|| day(left - 3)),
            peeringdb_oauth: oauth >= 3,
        })
}

#[derive(Debug, Clone)]
struct RawUser {
    superuser: bool,
    disabled: bool,
    /// Which customer (of the state's and the outside ones), who made it
    /// and how long ago PeeringDB confirmed it (see `confirmed_at`).
    links: Vec<(prop::sample::Index, CreatedBy, u8)>,
}

fn arb_user() -> impl Strategy<Value = RawUser> {
    (
        0u8..5,
        0u8..7,
        prop::collection::vec(
            (
                any::<prop::sample::Index>(),
                prop::sample::select(&[CreatedBy::PeeringDb, CreatedBy::Admin, CreatedBy::Cli][..]),
                0u8..8,
            ),
            0..5,
        ),
    )
        .prop_map(|(superuser, disabled, links)| RawUser {
            superuser: superuser == 0,
            disabled: disabled == 0,
            links,
        })
}

#[derive(Debug, Clone)]
struct RawTaken {
    /// Suffixes of the new user's base name that are taken (1: the base).
    suffixes: Vec<u64>,
    others: Vec<&'static str>,
    unknown: bool,
}

fn arb_taken() -> impl Strategy<Value = RawTaken> {
    (
        prop::collection::vec(1u64..=4, 0..4),
        prop::collection::vec(prop::sample::select(OTHER_USERNAMES), 0..3),
        any::<bool>(),
    )
        .prop_map(|(suffixes, others, unknown)| RawTaken {
            suffixes,
            others,
            unknown,
        })
}

/// Maximum link ages: the usual one most often.
const MAX_AGES: &[i64] = &[MAX_AGE, MAX_AGE, MAX_AGE, 3_600, 90 * DAY];

fn arb_policy() -> impl Strategy<Value = Policy> {
    (
        prop::sample::select(Privilege::ALL),
        0u8..5,
        prop::sample::select(MAX_AGES),
    )
        .prop_map(|(privilege, mfa, max_link_age)| Policy {
            privilege,
            require_mfa: mfa == 0,
            today: today(),
            now: now(),
            max_link_age,
        })
}

/// When PeeringDB last confirmed a generated link: never, just now, well
/// within the maximum age, a second under it, exactly at it, a second
/// over it, long ago, or in the future (a clock set back).
fn confirmed_at(age: u8, policy: &Policy) -> Option<NaiveDateTime> {
    let max = policy.max_link_age;
    let ago = match age {
        0 => return None,
        1 => 0,
        2 => max / 2,
        3 => max - 1,
        4 => max,
        5 => max + 1,
        6 => 10 * max,
        _ => -3_600,
    };
    Some(policy.now - TimeDelta::seconds(ago))
}

fn arb_blocks() -> impl Strategy<Value = Vec<(prop::sample::Index, BlockedBy)>> {
    prop::collection::vec(
        (
            any::<prop::sample::Index>(),
            prop::sample::select(&[BlockedBy::Staff, BlockedBy::Custadmin][..]),
        ),
        0..3,
    )
}

#[derive(Debug, Clone)]
struct Scenario {
    profile: Profile,
    state: State,
    policy: Policy,
}

fn arb_scenario() -> impl Strategy<Value = Scenario> {
    (
        arb_profile(),
        prop::collection::vec(arb_customer(POOL.to_vec()), 0..7),
        prop::collection::vec(arb_customer(vec![OUTSIDE]), 0..3),
        prop::option::weighted(0.6, arb_user()),
        arb_taken(),
        arb_policy(),
        arb_blocks(),
    )
        .prop_map(
            |(profile, customers, outsiders, user, taken, policy, blocks)| {
                let name = |(i, c): (usize, CustomerFacts), first: i64| {
                    let id = first + i as i64;
                    CustomerFacts {
                        id,
                        shortname: format!("c{id}"),
                        ..c
                    }
                };
                let customers: Vec<CustomerFacts> = customers
                    .into_iter()
                    .enumerate()
                    .map(|c| name(c, 1))
                    .collect();
                let outsiders: Vec<CustomerFacts> = outsiders
                    .into_iter()
                    .enumerate()
                    .map(|c| name(c, 1000))
                    .collect();
                let everyone: Vec<&CustomerFacts> = customers.iter().chain(&outsiders).collect();
                let user = user.map(|raw| {
                    let mut seen = HashSet::new();
                    let mut links = Vec::new();
                    if !everyone.is_empty() {
                        for (pick, created_by, age) in raw.links {
                            let c = *pick.get(&everyone);
                            if seen.insert(c.id) {
                                links.push(ExistingLink {
                                    affiliation_id: 100 + links.len() as i64,
                                    customer: c.clone(),
                                    created_by,
                                    confirmed_at: confirmed_at(age, &policy),
                                });
                            }
                        }
                    }
                    ExistingUser {
                        id: 77,
                        username: "someone".into(),
                        email: "someone@example.net".into(),
                        superuser: raw.superuser,
                        disabled: raw.disabled,
                        links,
                    }
                });
                let base = Username::sanitize(profile.name.as_deref());
                let mut taken_usernames: HashSet<String> = taken
                    .suffixes
                    .iter()
                    .map(|&n| base.with_suffix(n).to_string())
                    .chain(taken.others.iter().map(|o| o.to_string()))
                    .collect();
                if taken.unknown {
                    taken_usernames.insert(UNKNOWN_PDB_USER.to_string());
                }
                // Blocks on the pool's customers, at most one per customer.
                let mut blocked = HashSet::new();
                let blocks = if customers.is_empty() {
                    Vec::new()
                } else {
                    blocks
                        .into_iter()
                        .map(|(pick, by)| (pick.get(&customers).id, by))
                        .filter(|(id, _)| blocked.insert(*id))
                        .collect()
                };
                Scenario {
                    profile,
                    state: State {
                        user,
                        customers,
                        taken_usernames,
                        blocks,
                    },
                    policy,
                }
            },
        )
}

/// Why rule 7 makes a customer ineligible: a word the reason must contain
/// for each cause that applies; empty when the customer is eligible.
fn causes(c: &CustomerFacts, today: NaiveDate) -> Vec<String> {
    let mut why = Vec::new();
    if !matches!(c.kind, CustomerType::Full | CustomerType::ProBono) {
        why.push(format!("type is {}", c.kind.as_str()));
    }
    if c.status != CustomerStatus::Normal {
        why.push(format!("status is {}", c.status.as_str()));
    }
    if c.date_left.is_some_and(|d| d <= today) {
        why.push("left".into());
    }
    if !c.peeringdb_oauth {
        why.push("opted out".into());
    }
    why
}

/// Every property of a plan, independent of how `reconcile` computes it.
fn check_plan(s: &Scenario, plan: &Plan) -> Result<(), TestCaseError> {
    let (profile, state, policy) = (&s.profile, &s.state, &s.policy);
    let affiliated: HashSet<Asn> = profile.networks.iter().filter_map(|n| n.asn).collect();
    // Rule 7, written out again rather than trusting `eligibility`.
    let eligible = |c: &CustomerFacts| causes(c, policy.today).is_empty();
    // §6.2: who removed the customer's link by hand, if anyone.
    let blocked_by = |c: &CustomerFacts| {
        state
            .blocks
            .iter()
            .find(|(id, _)| *id == c.id)
            .map(|(_, by)| *by)
    };
    let links: &[ExistingLink] = state.user.as_ref().map_or(&[], |u| &u.links[..]);
    let linked: HashSet<i64> = links.iter().map(|l| l.customer.id).collect();
    let verified = profile.verified_user && profile.verified_email;
    let mfa_ok = !policy.require_mfa
        || profile
            .amr
            .as_ref()
            .is_some_and(|a| a.iter().any(|m| m == "mfa"));
    let any_match = state.customers.iter().any(|c| affiliated.contains(&c.asn));

    prop_assert_eq!(plan.peeringdb_id, profile.id);

    // Step 2 and MFA: refused before anything else, and nothing changes.
    prop_assert_eq!(plan.refusal == Some(Refusal::Unverified), !verified);
    prop_assert_eq!(
        plan.refusal == Some(Refusal::MfaRequired),
        verified && !mfa_ok
    );
    if !verified || !mfa_ok {
        prop_assert!(!plan.changes_anything(), "early refusal changes: {plan:?}");
        prop_assert!(plan.skipped.is_empty());
        prop_assert!(
            plan.networks.is_empty(),
            "early refusal lists networks: {plan:?}"
        );
        return Ok(());
    }

    // OAuth grants the policy privilege and nothing else.
    for a in &plan.add {
        prop_assert_eq!(a.privilege, policy.privilege);
    }

    // Step 5: exactly the OAuth links that no longer hold are removed, for
    // the right cause. With a profile, neither a link's age nor a block
    // matters: the profile confirms or removes it.
    let mut removed = HashSet::new();
    for r in &plan.remove {
        prop_assert!(removed.insert(r.affiliation_id), "removed twice: {r:?}");
        prop_assert!(!r.reason.trim().is_empty());
        prop_assert_eq!(&r.reason, &r.cause.audit());
        let l = links.iter().find(|l| l.affiliation_id == r.affiliation_id);
        prop_assert!(l.is_some(), "removes an unknown link: {r:?}");
        let l = l.expect("checked");
        prop_assert_eq!(
            l.created_by,
            CreatedBy::PeeringDb,
            "removes an admin or cli link: {:?}",
            r
        );
        prop_assert_eq!(r.customer_id, l.customer.id);
        prop_assert_eq!(&r.customer_name, &l.customer.name);
        let why = if affiliated.contains(&l.customer.asn) {
            prop_assert!(
                matches!(r.cause, Cause::Ineligible(_)),
                "cause {:?} of an ASN still listed",
                r.cause
            );
            causes(&l.customer, policy.today)
        } else {
            // A departed ASN is the cause, whatever else is wrong.
            prop_assert_eq!(r.cause, Cause::LeftProfile(l.customer.asn));
            vec![format!("AS{}", l.customer.asn)]
        };
        prop_assert!(
            why.iter().any(|w| r.reason.contains(w.as_str())),
            "reason {:?} names none of {:?}",
            r.reason,
            why
        );
    }
    for l in links {
        let stale = l.created_by == CreatedBy::PeeringDb
            && (!affiliated.contains(&l.customer.asn) || !eligible(&l.customer));
        prop_assert_eq!(removed.contains(&l.affiliation_id), stale, "link {:?}", l);
    }
    let kept = links.len() - plan.remove.len();

    // Steps 6 and 7: adds and skips.
    let mut added = HashSet::new();
    for a in &plan.add {
        prop_assert!(added.insert(a.customer_id), "added twice: {a:?}");
        prop_assert!(!linked.contains(&a.customer_id), "already linked: {a:?}");
        let c = state.customers.iter().find(|c| c.id == a.customer_id);
        prop_assert!(c.is_some(), "adds an unknown customer: {a:?}");
        let c = c.expect("checked");
        prop_assert!(eligible(c), "adds an ineligible customer: {c:?}");
        prop_assert!(blocked_by(c).is_none(), "adds a blocked customer: {c:?}");
        prop_assert!(affiliated.contains(&c.asn), "adds a foreign ASN: {c:?}");
        prop_assert_eq!(a.asn, c.asn);
        prop_assert_eq!(&a.customer_name, &c.name);
    }
    let mut skipped = HashSet::new();
    for k in &plan.skipped {
        prop_assert!(skipped.insert(k.customer_id), "skipped twice: {k:?}");
        prop_assert!(!linked.contains(&k.customer_id));
        prop_assert!(!added.contains(&k.customer_id));
        prop_assert_eq!(&k.reason, &k.cause.audit());
        let c = state.customers.iter().find(|c| c.id == k.customer_id);
        prop_assert!(c.is_some(), "skips an unknown customer: {k:?}");
        let c = c.expect("checked");
        prop_assert!(affiliated.contains(&c.asn));
        prop_assert_eq!(k.asn, c.asn);
        prop_assert_eq!(&k.customer_name, &c.name);
        match blocked_by(c) {
            // The block is the reason, whatever else may be wrong.
            Some(by) => {
                prop_assert_eq!(k.cause, Cause::Blocked(by));
                prop_assert!(
                    k.reason.contains(by.removed_by()),
                    "reason {:?} of a block by {:?}",
                    k.reason,
                    by
                );
            }
            None => {
                let why = causes(c, policy.today);
                prop_assert!(!why.is_empty(), "skips an eligible customer: {c:?}");
                prop_assert!(
                    matches!(k.cause, Cause::Ineligible(_)),
                    "cause {:?} of an unblocked customer",
                    k.cause
                );
                prop_assert!(
                    why.iter().any(|w| k.reason.contains(w.as_str())),
                    "reason {:?} names none of {:?}",
                    k.reason,
                    why
                );
            }
        }
    }
    // Every candidate is either linked or skipped.
    for c in &state.customers {
        if affiliated.contains(&c.asn) && !linked.contains(&c.id) {
            if eligible(c) && blocked_by(c).is_none() {
                prop_assert!(added.contains(&c.id), "candidate not linked: {c:?}");
            } else {
                prop_assert!(skipped.contains(&c.id), "candidate not skipped: {c:?}");
            }
        }
    }

    // Step 8 and the outcome: NoMatch when no customer carries one of the
    // ASNs; NotEligible when some do but nothing is kept or added;
    // Disabled when the user is disabled but would otherwise sign in.
    let left_with_nothing = kept + plan.add.len() == 0;
    let disabled = state.user.as_ref().is_some_and(|u| u.disabled);
    let want_refusal = if !any_match {
        Some(Refusal::NoMatch)
    } else if left_with_nothing {
        Some(Refusal::NotEligible)
    } else if disabled {
        Some(Refusal::Disabled)
    } else {
        None
    };
    prop_assert_eq!(plan.refusal, want_refusal, "plan {:?}", plan);
    if matches!(plan.refusal, Some(Refusal::NoMatch | Refusal::NotEligible)) {
        prop_assert!(plan.add.is_empty());
        prop_assert_eq!(&plan.user, &UserAction::Keep);
    }
    match &state.user {
        Some(u) => {
            let should_delete = left_with_nothing && !u.superuser;
            prop_assert_eq!(plan.delete_user, should_delete.then_some(u.id));
        }
        None => prop_assert_eq!(plan.delete_user, None),
    }

    // Step 4: the user. A profile without an email (or a blank one) keeps
    // the stored email.
    let profile_email = profile.email.clone().filter(|e| !e.trim().is_empty());
    match &plan.user {
        UserAction::Keep => {
            prop_assert!(matches!(
                plan.refusal,
                Some(Refusal::NoMatch | Refusal::NotEligible)
            ));
        }
        UserAction::Update { id, name, email } => {
            let u = state.user.as_ref();
            prop_assert!(u.is_some_and(|u| u.id == *id), "updates another user");
            prop_assert!(matches!(plan.refusal, None | Some(Refusal::Disabled)));
            prop_assert_eq!(name, &profile.display_name());
            let stored = &u.expect("checked").email;
            prop_assert_eq!(email, profile_email.as_ref().unwrap_or(stored));
        }
        UserAction::Create {
            username,
            name,
            email,
            peeringdb_id,
        } => {
            prop_assert!(state.user.is_none(), "creates a second user");
            prop_assert!(any_match && !plan.add.is_empty() && plan.refusal.is_none());
            let u = username.as_str();
            prop_assert!(is_valid_username(u), "bad username {u:?}");
            prop_assert_eq!(Username::parse(u), Ok(username.clone()));
            prop_assert!(!state.taken_usernames.contains(u), "taken: {u:?}");
            // The first free one of base, base2, base3, …
            let base = Username::sanitize(profile.name.as_deref());
            let n = (1..=state.taken_usernames.len() as u64 + 1)
                .find(|&n| base.with_suffix(n) == *username);
            prop_assert!(n.is_some(), "{u:?} is not a suffix of {base:?}");
            for earlier in 1..n.expect("checked") {
                let e = base.with_suffix(earlier);
                prop_assert!(state.taken_usernames.contains(e.as_str()), "{e} was free");
            }
            prop_assert_eq!(name, &profile.display_name());
            prop_assert_eq!(email, &profile_email.clone().unwrap_or_default());
            prop_assert_eq!(*peeringdb_id, profile.id);
        }
    }

    // The networks: exactly the distinct customers of the affiliated ASNs,
    // by name then id, each with what became of it.
    let mut mine: Vec<&CustomerFacts> = state
        .customers
        .iter()
        .filter(|c| affiliated.contains(&c.asn))
        .collect();
    mine.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    mine.dedup_by_key(|c| c.id);
    let ids: Vec<i64> = plan.networks.iter().map(|n| n.customer_id).collect();
    let want_ids: Vec<i64> = mine.iter().map(|c| c.id).collect();
    prop_assert_eq!(ids, want_ids);
    for (n, c) in plan.networks.iter().zip(&mine) {
        prop_assert_eq!(n.asn, c.asn);
        prop_assert_eq!(&n.customer_name, &c.name);
        let link = links.iter().find(|l| l.customer.id == c.id);
        let removal = link.and_then(|l| {
            plan.remove
                .iter()
                .find(|r| r.affiliation_id == l.affiliation_id)
        });
        let skip = plan.skipped.iter().find(|k| k.customer_id == c.id);
        let want_linked = if added.contains(&c.id) {
            Ok(true)
        } else if let Some(r) = removal {
            Err(r.cause)
        } else if link.is_some() {
            Ok(false)
        } else if let Some(k) = skip {
            Err(k.cause)
        } else {
            prop_assert!(false, "{c:?} is neither linked, added nor skipped");
            unreachable!()
        };
        prop_assert_eq!(n.linked, want_linked, "network {:?}", n);
    }
    Ok(())
}

/// Every property of `expire` (§6.4, a sign-in without a profile).
fn check_expiry(s: &Scenario, plan: &Plan) -> Result<(), TestCaseError> {
    let (state, policy) = (&s.state, &s.policy);
    // Nothing but removals, a refusal and a deletion.
    prop_assert!(plan.add.is_empty(), "expiry adds: {plan:?}");
    prop_assert!(plan.skipped.is_empty());
    prop_assert!(plan.networks.is_empty());
    prop_assert_eq!(&plan.user, &UserAction::Keep);
    let Some(u) = &state.user else {
        prop_assert!(!plan.changes_anything());
        prop_assert_eq!(plan.refusal, None);
        return Ok(());
    };
    // Confirmed before this, or never: too old.
    let oldest = policy.now - TimeDelta::seconds(policy.max_link_age);
    let too_old = |l: &ExistingLink| {
        l.created_by == CreatedBy::PeeringDb && l.confirmed_at.is_none_or(|t| t < oldest)
    };
    let mut removed = HashSet::new();
    for r in &plan.remove {
        prop_assert!(removed.insert(r.affiliation_id), "removed twice: {r:?}");
        let l = u
            .links
            .iter()
            .find(|l| l.affiliation_id == r.affiliation_id);
        prop_assert!(l.is_some(), "removes an unknown link: {r:?}");
        let l = l.expect("checked");
        prop_assert_eq!(
            l.created_by,
            CreatedBy::PeeringDb,
            "removes an admin or cli link: {:?}",
            r
        );
        prop_assert_eq!(r.customer_id, l.customer.id);
        prop_assert_eq!(&r.customer_name, &l.customer.name);
        prop_assert_eq!(
            r.cause,
            Cause::Unconfirmed {
                max_age_seconds: policy.max_link_age
            }
        );
        prop_assert_eq!(&r.reason, &r.cause.audit());
        prop_assert!(r.reason.starts_with("not confirmed by PeeringDB for "));
    }
    // Exactly the PeeringDB-made links older than the maximum age go.
    for l in &u.links {
        prop_assert_eq!(
            removed.contains(&l.affiliation_id),
            too_old(l),
            "link {:?}",
            l
        );
    }
    // Step 8: only a user who just lost the last link is deleted, and
    // only then is the sign-in refused.
    let lost_all = !removed.is_empty() && removed.len() == u.links.len();
    prop_assert_eq!(plan.refusal, lost_all.then_some(Refusal::Unconfirmed));
    prop_assert_eq!(plan.delete_user, (lost_all && !u.superuser).then_some(u.id));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 80_000, ..ProptestConfig::default() })]

    #[test]
    fn reconcile_properties(s in arb_scenario()) {
        let plan = reconcile(&s.profile, &s.state, &s.policy);
        check_plan(&s, &plan)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]

    /// A sign-in without a profile, on any state.
    #[test]
    fn expire_properties(s in arb_scenario()) {
        let plan = expire(&s.state, &s.policy);
        check_expiry(&s, &plan)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]

    /// Unverified or without MFA: whatever the state, nothing changes.
    #[test]
    fn reconcile_early_refusals_change_nothing(
        mut s in arb_scenario(),
        verified_user in any::<bool>(),
        verified_email in any::<bool>(),
        require_mfa in any::<bool>(),
    ) {
        s.profile.verified_user = verified_user;
        s.profile.verified_email = verified_email;
        s.policy.require_mfa = require_mfa;
        let plan = reconcile(&s.profile, &s.state, &s.policy);
        check_plan(&s, &plan)?;
        if !(verified_user && verified_email) {
            prop_assert_eq!(plan.refusal, Some(Refusal::Unverified));
        }
        if matches!(plan.refusal, Some(Refusal::Unverified | Refusal::MfaRequired)) {
            prop_assert!(!plan.changes_anything());
            prop_assert_eq!(&plan.user, &UserAction::Keep);
            prop_assert!(plan.add.is_empty() && plan.remove.is_empty());
            prop_assert_eq!(plan.delete_user, None);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]

    /// `Username::sanitize` always gives a valid, non-empty username, with
    /// room for a suffix.
    #[test]
    fn username_sanitize_always_parses(name in prop::option::of(prop_oneof![
        3 => any::<String>(),
        2 => "\\PC{0,40}",
        // Printable ASCII, long enough to be cut short.
        1 => prop::collection::vec(0x20u8..0x7f, 0..300)
            .prop_map(|b| b.into_iter().map(char::from).collect()),
        1 => Just(String::new()),
    ])) {
        let u = Username::sanitize(name.as_deref());
        prop_assert!(is_valid_username(u.as_str()), "{u:?}");
        prop_assert_eq!(Username::parse(u.as_str()), Ok(u.clone()));
        prop_assert!(Username::parse(u.with_suffix(4_000_000_000).as_str()).is_ok());
        match name.as_deref() {
            None | Some("") => prop_assert_eq!(u.as_str(), UNKNOWN_PDB_USER),
            Some(n) if n.is_ascii() && n.len() <= 200 => {
                // Printable ASCII maps one to one.
                let want: String = n
                    .chars()
                    .map(|c| c.to_ascii_lowercase())
                    .map(|c| if allowed_username_char(c) { c } else { '.' })
                    .collect();
                prop_assert_eq!(u.as_str(), want.as_str());
            }
            Some(_) => {}
        }
    }
}
