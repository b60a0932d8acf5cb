//! Tests of the PeeringDB login reconciliation (SPEC §2, steps 2 to 8): a
//! table of named cases for every rule and reason, then property tests over
//! random profiles, states and policies.
use super::*;
use crate::domain::{CustomerStatus, CustomerType, UNKNOWN_PDB_USER};
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

fn link(affiliation_id: i64, customer: CustomerFacts, created_by: CreatedBy) -> ExistingLink {
    ExistingLink {
        affiliation_id,
        customer,
        created_by,
    }
}

fn user(links: Vec<ExistingLink>) -> ExistingUser {
    ExistingUser {
        id: USER_ID,
        username: "jane.doe".into(),
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
    }
}

fn taken(mut s: State, names: &[&str]) -> State {
    s.taken_usernames = names.iter().map(|n| n.to_string()).collect();
    s
}

fn policy() -> Policy {
    Policy {
        privilege: Privilege::CustUser,
        require_mfa: false,
        today: today(),
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
    delete_user: Option<i64>,
    refusal: Option<Refusal>,
}

fn want(user: UserAction) -> Want {
    Want {
        user,
        add: Vec::new(),
        remove: Vec::new(),
        skipped: Vec::new(),
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

fn table() -> Vec<Case> {
    use CreatedBy::{Admin, Cli, PeeringDb};
    use CustomerStatus::{NotConnected, Suspended};
    use CustomerType::{Associate, Internal, ProBono};
    use Privilege::{CustAdmin, CustUser};
    use Refusal::{Disabled, MfaRequired, NoMatch, Unverified};

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
                .refuse(NoMatch),
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
                .add(&[6], CustUser),
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
                .refuse(NoMatch),
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
                .refuse(NoMatch),
        ),
        case(
            "existing user without links and only ineligible candidates is deleted",
            jane(&[AS_A]),
            state(Some(user(vec![])), vec![opted_out(customer(1, AS_A))]),
            policy(),
            want(UserAction::Keep)
                .skip(1, WHY_OPTED_OUT)
                .delete()
                .refuse(NoMatch),
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
            want(update()).refuse(Disabled),
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
                .refuse(NoMatch),
        ),
    ]
}

/// Compares a plan with the expected facts; returns what differs.
fn differences(c: &Case, plan: &Plan) -> Vec<String> {
    let w = &c.want;
    let mut out = Vec::new();
    if plan.peeringdb_id != c.profile.id {
        out.push(format!("peeringdb_id {}", plan.peeringdb_id));
    }
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
        let known = c
            .state
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
    if matches!(
        plan.refusal,
        Some(Refusal::Unverified | Refusal::MfaRequired)
    ) && plan.changes_anything()
    {
        out.push("an early refusal changes something".into());
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
        Refusal::Disabled,
    ];
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

/// A customer without an id or name (the scenario gives them). About one
/// in four is eligible; every way of being ineligible occurs.
fn arb_customer(asns: Vec<i64>) -> impl Strategy<Value = CustomerFacts> {
    (
        prop::sample::select(asns),
        0u8..6,
        0u8..6,
        0i64..24,
        0u8..20,
    )
        .prop_map(|(value, kind, status, left, oauth)| CustomerFacts {
            id: 0,
            name: String::new(),
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
    /// Which customer (of the state's and the outside ones) and who made it.
    links: Vec<(prop::sample::Index, CreatedBy)>,
}

fn arb_user() -> impl Strategy<Value = RawUser> {
    (
        0u8..5,
        0u8..7,
        prop::collection::vec(
            (
                any::<prop::sample::Index>(),
                prop::sample::select(&[CreatedBy::PeeringDb, CreatedBy::Admin, CreatedBy::Cli][..]),
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

fn arb_policy() -> impl Strategy<Value = Policy> {
    (prop::sample::select(Privilege::ALL), 0u8..5).prop_map(|(privilege, mfa)| Policy {
        privilege,
        require_mfa: mfa == 0,
        today: today(),
    })
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
    )
        .prop_map(|(profile, customers, outsiders, user, taken, policy)| {
            let name = |(i, c): (usize, CustomerFacts), first: i64| {
                let id = first + i as i64;
                CustomerFacts {
                    id,
                    name: format!("Customer {id}"),
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
                    for (pick, created_by) in raw.links {
                        let c = *pick.get(&everyone);
                        if seen.insert(c.id) {
                            links.push(ExistingLink {
                                affiliation_id: 100 + links.len() as i64,
                                customer: c.clone(),
                                created_by,
                            });
                        }
                    }
                }
                ExistingUser {
                    id: 77,
                    username: "someone".into(),
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
            Scenario {
                profile,
                state: State {
                    user,
                    customers,
                    taken_usernames,
                },
                policy,
            }
        })
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
        return Ok(());
    }

    // OAuth grants the policy privilege and nothing else.
    for a in &plan.add {
        prop_assert_eq!(a.privilege, policy.privilege);
    }

    // Step 5: exactly the OAuth links that no longer hold are removed.
    let mut removed = HashSet::new();
    for r in &plan.remove {
        prop_assert!(removed.insert(r.affiliation_id), "removed twice: {r:?}");
        prop_assert!(!r.reason.trim().is_empty());
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
        let why = if affiliated.contains(&l.customer.asn) {
            causes(&l.customer, policy.today)
        } else {
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
        prop_assert!(affiliated.contains(&c.asn), "adds a foreign ASN: {c:?}");
        prop_assert_eq!(a.asn, c.asn);
        prop_assert_eq!(&a.customer_name, &c.name);
    }
    let mut skipped = HashSet::new();
    for k in &plan.skipped {
        prop_assert!(skipped.insert(k.customer_id), "skipped twice: {k:?}");
        prop_assert!(!linked.contains(&k.customer_id));
        prop_assert!(!added.contains(&k.customer_id));
        let c = state.customers.iter().find(|c| c.id == k.customer_id);
        prop_assert!(c.is_some(), "skips an unknown customer: {k:?}");
        let c = c.expect("checked");
        prop_assert!(affiliated.contains(&c.asn));
        let why = causes(c, policy.today);
        prop_assert!(!why.is_empty(), "skips an eligible customer: {c:?}");
        prop_assert!(
            why.iter().any(|w| k.reason.contains(w.as_str())),
            "reason {:?} names none of {:?}",
            k.reason,
            why
        );
    }
    // Every candidate is either linked or skipped.
    for c in &state.customers {
        if affiliated.contains(&c.asn) && !linked.contains(&c.id) {
            if eligible(c) {
                prop_assert!(added.contains(&c.id), "candidate not linked: {c:?}");
            } else {
                prop_assert!(skipped.contains(&c.id), "candidate not skipped: {c:?}");
            }
        }
    }

    // Step 8 and the outcome.
    let left_with_nothing = kept + plan.add.len() == 0;
    match plan.refusal {
        None => {
            prop_assert!(!left_with_nothing, "succeeds without a link: {plan:?}");
            prop_assert!(any_match);
            prop_assert_eq!(plan.delete_user, None);
            prop_assert!(!state.user.as_ref().is_some_and(|u| u.disabled));
        }
        Some(Refusal::NoMatch) => {
            prop_assert!(left_with_nothing || !any_match);
            prop_assert!(plan.add.is_empty());
            prop_assert_eq!(&plan.user, &UserAction::Keep);
        }
        Some(Refusal::Disabled) => {
            prop_assert!(state.user.as_ref().is_some_and(|u| u.disabled));
            prop_assert!(!left_with_nothing && any_match);
        }
        Some(other) => prop_assert!(false, "unexpected refusal {other:?}"),
    }
    match &state.user {
        Some(u) => {
            let should_delete = left_with_nothing && !u.superuser;
            prop_assert_eq!(plan.delete_user, should_delete.then_some(u.id));
        }
        None => prop_assert_eq!(plan.delete_user, None),
    }

    // Step 4: the user.
    match &plan.user {
        UserAction::Keep => {
            prop_assert!(plan.refusal == Some(Refusal::NoMatch));
        }
        UserAction::Update { id, name, email } => {
            let u = state.user.as_ref();
            prop_assert!(u.is_some_and(|u| u.id == *id), "updates another user");
            prop_assert_eq!(name, &profile.display_name());
            prop_assert_eq!(email, &profile.email.clone().unwrap_or_default());
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
            prop_assert_eq!(email, &profile.email.clone().unwrap_or_default());
            prop_assert_eq!(*peeringdb_id, profile.id);
        }
    }
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
