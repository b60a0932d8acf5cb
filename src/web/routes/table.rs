//! The route table: every route of the portal as (method, path, scope,
//! handler), in one list that both the server and the tests read. A route
//! is registered only through it, wrapped in the guard of its scope
//! (`web::guard`), so a new route cannot skip the CSRF or role check.
use crate::web::guard::{self, Scope};
use actix_web::http::Method;
use actix_web::{FromRequest, Handler, Responder, web};

/// One route: what the tests see (`method`, `path`, `scope`) and the
/// handler behind it.
pub struct RouteDef {
    pub method: Method,
    pub path: &'static str,
    pub scope: Scope,
    route: actix_web::Route,
}

impl std::fmt::Debug for RouteDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} ({:?})", self.method, self.path, self.scope)
    }
}

fn def<F, Args>(method: Method, path: &'static str, scope: Scope, handler: F) -> RouteDef
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    RouteDef {
        route: web::method(method.clone()).to(handler),
        method,
        path,
        scope,
    }
}

pub fn get<F, Args>(path: &'static str, scope: Scope, handler: F) -> RouteDef
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    def(Method::GET, path, scope, handler)
}

pub fn post<F, Args>(path: &'static str, scope: Scope, handler: F) -> RouteDef
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    def(Method::POST, path, scope, handler)
}

pub fn delete<F, Args>(path: &'static str, scope: Scope, handler: F) -> RouteDef
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    def(Method::DELETE, path, scope, handler)
}

/// Registers the routes: one resource per (path, scope), in table order
/// (a literal path such as `/new` comes before `/{id}`), wrapped in its
/// scope's guard. A method the path does not serve answers like an
/// unknown path (the Peering API: a JSON 405).
pub fn register(cfg: &mut web::ServiceConfig, routes: Vec<RouteDef>) {
    let mut resources: Vec<(&'static str, Scope, Vec<actix_web::Route>)> = Vec::new();
    for r in routes {
        match resources
            .iter_mut()
            .find(|(p, s, _)| *p == r.path && *s == r.scope)
        {
            Some((_, _, list)) => list.push(r.route),
            None => resources.push((r.path, r.scope, vec![r.route])),
        }
    }
    for (path, scope, list) in resources {
        let mut resource = web::resource(path);
        for route in list {
            resource = resource.route(route);
        }
        let resource = if path.starts_with(super::peering::API_PREFIX) {
            resource.default_service(web::to(super::peering::method_not_allowed))
        } else {
            resource.default_service(web::to(super::not_found))
        };
        cfg.service(
            resource.wrap(actix_web::middleware::from_fn(guard::middleware::<
                actix_web::body::BoxBody,
            >(scope))),
        );
    }
}
