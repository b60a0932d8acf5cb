//! The blocks of SPEC §6.2 as the pages show them (one partial template,
//! `partials/blocks.html`, for the staff user and customer pages and the
//! member's users page).
use crate::db::peeringdb_links::Block;
use crate::domain::BlockedBy;

pub struct BlockRow {
    pub block: Block,
    /// The person (on a customer's page) or the customer (on a user's).
    pub label: String,
    pub href: Option<String>,
    pub removed_by: String,
    /// Where "Lift block" posts.
    pub lift_action: String,
}

pub struct BlockRows {
    pub label_heading: &'static str,
    pub rows: Vec<BlockRow>,
}

impl BlockRows {
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

fn removed_by(b: &Block, member_view: bool) -> String {
    match (b.by, member_view) {
        (BlockedBy::Staff, _) => "the exchange's staff".into(),
        (BlockedBy::Custadmin, true) => format!("your network's administrator ({})", b.actor),
        (BlockedBy::Custadmin, false) => format!("the network's administrator ({})", b.actor),
    }
}

/// A user's blocks, on the staff user page.
pub fn of_user(user_id: i64, blocks: Vec<Block>) -> BlockRows {
    BlockRows {
        label_heading: "Customer",
        rows: blocks
            .into_iter()
            .map(|b| BlockRow {
                label: format!("{} (AS{})", b.customer_name, b.asn),
                href: Some(format!("/staff/customers/{}", b.customer_id)),
                removed_by: removed_by(&b, false),
                lift_action: format!("/staff/users/{user_id}/blocks/{}/lift", b.customer_id),
                block: b,
            })
            .collect(),
    }
}

/// A customer's blocks with the person's name: on the staff customer page
/// (`member_view` false) or the member's users page.
pub fn on_customer(blocks: Vec<(Block, String)>, member_view: bool) -> BlockRows {
    BlockRows {
        label_heading: "Person",
        rows: blocks
            .into_iter()
            .map(|(b, name)| BlockRow {
                label: name,
                href: None,
                removed_by: removed_by(&b, member_view),
                lift_action: if member_view {
                    format!("/member/users/blocks/{}/lift", b.peeringdb_id)
                } else {
                    format!(
                        "/staff/customers/{}/blocks/{}/lift",
                        b.customer_id, b.peeringdb_id
                    )
                },
                block: b,
            })
            .collect(),
    }
}
