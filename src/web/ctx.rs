//! The request context: who is asking, in which customer, and what the
//! layout needs (CSRF token, flash messages, navigation).
use super::App;
use super::error::AppError;
use super::session::{self, Flash};
use crate::db::models::{Affiliation, Customer, User};
use crate::domain::Privilege;
use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

/// A signed-in user with their affiliations.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user: User,
    pub links: Vec<(Affiliation, Customer)>,
    /// This session was signed in with two factors.
    pub session_two_factor: bool,
}

impl Viewer {
    /// The current customer and the affiliation with it: the stored choice if
    /// still linked, else the first link.
    pub fn current(&self) -> Option<&(Affiliation, Customer)> {
        self.links
            .iter()
            .find(|(a, _)| Some(a.customer_id) == self.user.current_customer_id)
            .or_else(|| self.links.first())
    }
    pub fn current_customer(&self) -> Option<&Customer> {
        self.current().map(|(_, c)| c)
    }
    pub fn is_superuser(&self) -> bool {
        self.user.superuser
    }
    pub fn is_custadmin(&self) -> bool {
        self.current()
            .is_some_and(|(a, _)| a.privilege == Privilege::CustAdmin)
    }
}

/// What the layout shows.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    pub csrf: String,
    pub flashes: Vec<Flash>,
    pub username: Option<String>,
    pub superuser: bool,
    pub custadmin: bool,
    pub current_customer: Option<(i64, String)>,
    pub customers: Vec<(i64, String)>,
    pub path: String,
    /// The exchange's name and support email from the IXP record, when
    /// set (issue 13; `pages::branded`, cached for a few seconds).
    pub ixp_name: Option<String>,
    pub support_email: Option<String>,
}

pub struct Ctx {
    pub app: web::Data<App>,
    pub session: Session,
    pub viewer: Option<Viewer>,
    pub path: String,
    /// The path and query, to come back to after signing in.
    pub here: String,
    pub address: String,
    /// The browser's `User-Agent`, cut to 200 characters.
    pub user_agent: String,
    flashes: Vec<Flash>,
}

impl Ctx {
    pub fn flash(&self, level: &str, text: impl Into<String>) {
        session::flash(&self.session, level, text);
    }

    pub fn chrome(&self) -> Chrome {
        let v = self.viewer.as_ref();
        Chrome {
            csrf: session::csrf_token(&self.session),
            flashes: self.flashes.clone(),
            username: v.map(|v| v.user.username.clone()),
            superuser: v.is_some_and(Viewer::is_superuser),
            custadmin: v.is_some_and(Viewer::is_custadmin),
            current_customer: v
                .and_then(Viewer::current_customer)
                .map(|c| (c.id, c.name.clone())),
            customers: v
                .map(|v| {
                    v.links
                        .iter()
                        .map(|(_, c)| (c.id, c.name.clone()))
                        .collect()
                })
                .unwrap_or_default(),
            path: self.path.clone(),
            ..super::pages::branded(&self.app.db)
        }
    }

    /// The actor name for audit entries.
    pub fn actor(&self) -> String {
        self.viewer
            .as_ref()
            .map(|v| v.user.username.clone())
            .unwrap_or_else(|| "anonymous".into())
    }
}

/// The signed-in viewer of this request's session, loaded once per
/// request (the route's guard and the handler's `Ctx` share it). A session
/// of a user who is gone, disabled, or signed out everywhere ends here.
pub async fn viewer(req: &HttpRequest, app: &web::Data<App>) -> Result<Option<Viewer>, AppError> {
    #[derive(Clone)]
    struct Loaded(Option<Viewer>);
    if let Some(Loaded(v)) = req.extensions().get::<Loaded>() {
        return Ok(v.clone());
    }
    let session = req.get_session();
    let mut viewer = None;
    if let Some(si) = session::signed_in(&session, app.config.sessions) {
        let uid = si.user_id;
        // Read with the session when the store could (`web::preload`).
        let parts = match super::preload::take(uid) {
            Some(parts) => parts,
            None => {
                app.db
                    .run(move |c| super::preload::load(c, uid).map_err(AppError::from))
                    .await?
            }
        };
        let loaded = parts.map(|(user, links)| Viewer {
            user,
            links,
            session_two_factor: si.two_factor,
        });
        match loaded {
            Some(v) if !v.user.disabled && v.user.session_epoch == si.epoch => viewer = Some(v),
            _ => session::sign_out(&session),
        }
    }
    req.extensions_mut().insert(Loaded(viewer.clone()));
    Ok(viewer)
}

/// `AUTH_2FA_ENFORCE`: a user in scope who signed in with one factor
/// reaches nothing but the enrolment until done.
pub fn enforce_enrolment(app: &App, v: &Viewer, path: &str) -> Result<(), AppError> {
    if !v.session_two_factor
        && app.config.two_factor_enforce.applies_to(v.user.superuser)
        && !enrolment_path(path)
    {
        return Err(AppError::Enrol);
    }
    Ok(())
}

/// The path and query of a request, to come back to after signing in.
pub fn here(req: &HttpRequest) -> String {
    match req.uri().path_and_query() {
        Some(pq) => pq.as_str().to_string(),
        None => req.path().to_string(),
    }
}

/// Where a user who must enrol a second factor may go meanwhile.
fn enrolment_path(path: &str) -> bool {
    path == "/profile/2fa"
        || path.starts_with("/profile/2fa/")
        || path == "/logout"
        || path.starts_with("/static/")
        // Public pages stay public.
        || path.starts_with("/login")
        || path.starts_with("/password/")
}

/// The browser as it names itself, for the sessions list.
pub fn user_agent(req: &HttpRequest) -> String {
    req.headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect()
}

/// The client address as the portal records it: the direct peer, or behind
/// a proxy in `PORTAL_TRUSTED_PROXIES` the right-most `X-Forwarded-For`
/// address that is not a trusted proxy (SPEC §5, `web::proxy::client_ip`).
pub fn client_address(req: &HttpRequest) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return "unknown".into();
    };
    let Some(app) = req.app_data::<web::Data<App>>() else {
        return peer.to_canonical().to_string();
    };
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        // A value that is not text counts as an entry that is no address.
        .map(|v| v.to_str().unwrap_or(""));
    super::proxy::client_ip(&app.config.ops.trusted_proxies, peer, forwarded).to_string()
}

impl FromRequest for Ctx {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let app = req
                .app_data::<web::Data<App>>()
                .cloned()
                .ok_or_else(|| AppError::internal("application state missing"))?;
            let session = req.get_session();
            // The notices waiting for this page (taken before the session
            // is checked, so that a notice of its ending waits for the next).
            let flashes = if req.method() == actix_web::http::Method::GET {
                session::take_flashes(&session)
            } else {
                Vec::new()
            };
            let viewer = viewer(&req, &app).await?;
            if let Some(v) = &viewer {
                enforce_enrolment(&app, v, req.path())?;
            }
            let here = here(&req);
            Ok(Ctx {
                app,
                session,
                viewer,
                path: req.path().to_string(),
                here,
                address: client_address(&req),
                user_agent: user_agent(&req),
                flashes,
            })
        })
    }
}
