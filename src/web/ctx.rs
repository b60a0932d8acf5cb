//! The request context: who is asking, in which customer, and what the
//! layout needs (CSRF token, flash messages, navigation).
use super::App;
use super::error::AppError;
use super::session::{self, Flash};
use crate::db::models::{Affiliation, Customer, User};
use crate::db::{affiliations, users};
use crate::domain::Privilege;
use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

/// A signed-in user with their affiliations.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user: User,
    pub links: Vec<(Affiliation, Customer)>,
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
}

pub struct Ctx {
    pub app: web::Data<App>,
    pub session: Session,
    pub viewer: Option<Viewer>,
    pub path: String,
    /// The path and query, to come back to after signing in.
    pub here: String,
    pub address: String,
    flashes: Vec<Flash>,
}

impl Ctx {
    pub fn require_user(&self) -> Result<&Viewer, AppError> {
        self.viewer.as_ref().ok_or_else(|| AppError::Login {
            next: self.here.clone(),
        })
    }

    pub fn require_superuser(&self) -> Result<&Viewer, AppError> {
        let v = self.require_user()?;
        if v.is_superuser() {
            Ok(v)
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// A custadmin of their current customer (or staff acting in one).
    pub fn require_custadmin(&self) -> Result<(&Viewer, &Customer), AppError> {
        let v = self.require_user()?;
        match v.current_customer() {
            Some(c) if v.is_custadmin() || v.is_superuser() => Ok((v, c)),
            _ => Err(AppError::Forbidden),
        }
    }

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

/// The client address as the portal records it.
pub fn client_address(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
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
            let mut viewer = None;
            if let Some((uid, epoch)) = session::signed_in(&session) {
                let loaded = app
                    .db
                    .run(move |c| -> Result<_, AppError> {
                        let Some(user) = users::find(c, uid)? else {
                            return Ok(None);
                        };
                        let links = affiliations::of_user(c, uid)?;
                        Ok(Some(Viewer { user, links }))
                    })
                    .await?;
                match loaded {
                    Some(v) if !v.user.disabled && v.user.session_epoch == epoch => {
                        viewer = Some(v)
                    }
                    _ => session::sign_out(&session),
                }
            }
            let flashes = if req.method() == actix_web::http::Method::GET {
                session::take_flashes(&session)
            } else {
                Vec::new()
            };
            let here = match req.uri().path_and_query() {
                Some(pq) => pq.as_str().to_string(),
                None => req.path().to_string(),
            };
            Ok(Ctx {
                app,
                session,
                viewer,
                path: req.path().to_string(),
                here,
                address: client_address(&req),
                flashes,
            })
        })
    }
}
