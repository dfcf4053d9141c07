//! A loopback HTTP listener standing in for a hub subscriber's callback URL: it answers every
//! POST to `/listener` with a fixed status and records the POST.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::Value;

/// Serves `app` on a fresh loopback port in a background task; returns its address.
pub async fn serve(app: Router) -> SocketAddr {
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = socket.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(socket, app).await.expect("serve") });
    addr
}

/// One POST the listener received.
#[derive(Clone, Debug)]
pub struct Post {
    /// Its headers, by (lower-case) name.
    pub headers: BTreeMap<String, String>,
    /// Its body, parsed as JSON.
    pub body: Value,
}

/// A running listener: its URL and what it has received so far.
pub struct Listener {
    /// `http://127.0.0.1:<port>/listener`.
    pub url: String,
    posts: Arc<Mutex<Vec<Post>>>,
}

impl Listener {
    /// Starts a listener answering every POST with `status`; a body that is not JSON fails
    /// the POST (the handler panics, the connection drops).
    pub async fn start(status: StatusCode) -> Listener {
        let posts: Arc<Mutex<Vec<Post>>> = Arc::default();
        let seen = Arc::clone(&posts);
        let app = Router::new().route(
            "/listener",
            post(move |headers: HeaderMap, body: String| {
                let seen = Arc::clone(&seen);
                async move {
                    let headers = headers
                        .iter()
                        .map(|(k, v)| {
                            (
                                k.as_str().to_owned(),
                                v.to_str().unwrap_or_default().to_owned(),
                            )
                        })
                        .collect();
                    let body = serde_json::from_str(&body).expect("JSON body");
                    seen.lock().expect("lock").push(Post { headers, body });
                    status
                }
            }),
        );
        let addr = serve(app).await;
        Listener {
            url: format!("http://{addr}/listener"),
            posts,
        }
    }

    /// Every POST received so far, in arrival order.
    pub fn posts(&self) -> Vec<Post> {
        self.posts.lock().expect("lock").clone()
    }

    /// The `eventId` of every POST received so far, in arrival order.
    pub fn event_ids(&self) -> Vec<String> {
        let posts = self.posts.lock().expect("lock");
        posts
            .iter()
            .map(|post| post.body["eventId"].as_str().expect("eventId").to_owned())
            .collect()
    }
}
