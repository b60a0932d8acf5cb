//! The signed-in user, read in the same trip to the database as the session
//! (issue 12). A signed-in page used to make one blocking hop for the
//! session row (the session store), another for the user and their links
//! (`ctx::viewer`), and a third for the page's data. The store now reads
//! the user and links with the session, on the same connection, and leaves
//! them here for `ctx::viewer`, which checks the session as before (limits,
//! epoch, disabled) and falls back to its own hop when nothing was left.
//!
//! The place is a task-local slot that [`middleware`] opens around the
//! session middleware for each request, so what one request read can never
//! reach another. Static files get no slot: their session needs no user.
use crate::db::models::{Affiliation, Customer, User};
use crate::db::{DbConnection, affiliations, users};
use actix_web::Error;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use std::cell::RefCell;
use std::future::Future;

/// A user and their links, as `ctx::viewer` needs them.
pub type Parts = (User, Vec<(Affiliation, Customer)>);

/// What the session store read for the session's user (`None`: the user
/// is gone).
struct Preloaded {
    user_id: i64,
    parts: Option<Parts>,
}

tokio::task_local! {
    static SLOT: RefCell<Option<Preloaded>>;
}

/// Reads a user and their links (the viewer's own hop when the store left
/// nothing).
pub fn load(c: &mut DbConnection, user_id: i64) -> Result<Option<Parts>, diesel::result::Error> {
    match users::find(c, user_id)? {
        Some(user) => with_links(c, user).map(Some),
        None => Ok(None),
    }
}

/// A user read already (with the session), and their links.
pub fn with_links(c: &mut DbConnection, user: User) -> Result<Parts, diesel::result::Error> {
    let links = affiliations::of_user(c, user.id)?;
    Ok((user, links))
}

/// Does this request want its user read with the session?
pub fn wanted() -> bool {
    SLOT.try_with(|_| ()).is_ok()
}

/// Leaves what the store read for the viewer of this request.
pub fn put(user_id: i64, parts: Option<Parts>) {
    let _ = SLOT.try_with(|s| *s.borrow_mut() = Some(Preloaded { user_id, parts }));
}

/// What the store read for `user_id`, taken (once); `None` when it read
/// nothing for this user.
pub fn take(user_id: i64) -> Option<Option<Parts>> {
    SLOT.try_with(|s| s.borrow_mut().take())
        .ok()
        .flatten()
        .filter(|p| p.user_id == user_id)
        .map(|p| p.parts)
}

/// Opens the slot around the session middleware (`wrap_fn`), except for
/// static files.
pub fn middleware<S>(
    req: ServiceRequest,
    srv: &S,
) -> impl Future<Output = Result<ServiceResponse, Error>> + use<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse, Error = Error>,
{
    let slot = !req.path().starts_with("/static/");
    let fut = srv.call(req);
    async move {
        if slot {
            SLOT.scope(RefCell::new(None), fut).await
        } else {
            fut.await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_slot_lives_for_one_request_and_one_user() {
        assert!(!wanted(), "no slot outside a request");
        put(1, None);
        assert!(take(1).is_none());
        SLOT.scope(RefCell::new(None), async {
            assert!(wanted());
            put(7, None);
            assert!(take(8).is_none(), "another user's read is not handed out");
            put(7, None);
            assert_eq!(take(7).map(|p| p.is_none()), Some(true));
            assert!(take(7).is_none(), "taken once");
        })
        .await;
    }
}
