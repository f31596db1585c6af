//! A stand-in for Google's key server, started in-process per test: it publishes a JWKS with
//! `Cache-Control: max-age`, counts how often it is fetched, can publish more keys (rotation)
//! or stop answering, and mints ID tokens with its private keys. Tests never reach Google.

use ct_codecs::{Base64UrlSafeNoPadding, Encoder as _};
use rsa::pkcs8::{EncodePublicKey as _, LineEnding};
use rsa::traits::PublicKeyParts as _;
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// The OAuth client id the test application is configured with.
pub const CLIENT_ID: &str = "1234567890-edge.apps.googleusercontent.com";
/// The key id of the first published key.
pub const KID: &str = "test-google-1";
/// The key id of the second key (published only when a test rotates).
pub const ROTATED_KID: &str = "test-google-2";
/// The path the key set is served at (Google's own).
pub const JWKS_PATH: &str = "/oauth2/v3/certs";
/// `max-age` the server sends: long enough that no test outlives it.
pub const MAX_AGE_SECS: u64 = 3600;

fn b64(bytes: &[u8]) -> String {
    Base64UrlSafeNoPadding::encode_to_string(bytes).unwrap_or_default()
}

/// The run's two RSA keys (generation costs a moment; every test shares them).
fn key(index: usize) -> &'static RsaPrivateKey {
    static KEYS: std::sync::OnceLock<[RsaPrivateKey; 2]> = std::sync::OnceLock::new();
    let generate = || {
        RsaPrivateKey::new(&mut rand_core::OsRng, 2048)
            .unwrap_or_else(|e| panic!("generating a test RSA key: {e}"))
    };
    &KEYS.get_or_init(|| [generate(), generate()])[index]
}

fn kid_index(kid: &str) -> usize {
    usize::from(kid == ROTATED_KID)
}

fn jwk(kid: &str) -> Value {
    let public = key(kid_index(kid)).to_public_key();
    json!({
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
        "n": b64(&public.n().to_bytes_be()), "e": b64(&public.e().to_bytes_be()),
    })
}

struct State {
    published: Vec<&'static str>,
    answering: bool,
}

/// A running key server on a loopback port.
pub struct GoogleKeyServer {
    addr: String,
    state: Arc<Mutex<State>>,
    fetches: Arc<AtomicU64>,
}

impl GoogleKeyServer {
    /// Starts serving a set with [`KID`] only.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("binding the key server: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("key server address: {e}"))
            .to_string();
        let state = Arc::new(Mutex::new(State {
            published: vec![KID],
            answering: true,
        }));
        let fetches = Arc::new(AtomicU64::new(0));
        let (served, counted) = (state.clone(), fetches.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(answer(stream, served.clone(), counted.clone()));
            }
        });
        Self {
            addr,
            state,
            fetches,
        }
    }

    /// `google_jwks_url`.
    pub fn url(&self) -> String {
        format!("http://{}{JWKS_PATH}", self.addr)
    }

    /// `google_jwks_origin` (for allowed_outbound_hosts).
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many times the key set was fetched.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::SeqCst)
    }

    /// Publishes [`ROTATED_KID`] beside [`KID`], as Google does before signing with a new key.
    pub fn rotate(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.published = vec![KID, ROTATED_KID];
        }
    }

    /// Every later fetch answers 500.
    pub fn fail(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.answering = false;
        }
    }

    /// Valid claims for Google account `sub` with `email` (verified), issued now, one hour left.
    pub fn claims(sub: &str, email: &str) -> Value {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        json!({
            "iss": "https://accounts.google.com", "azp": CLIENT_ID, "aud": CLIENT_ID,
            "sub": sub, "email": email, "email_verified": true, "name": "Kim Google",
            "picture": "https://lh3.googleusercontent.com/a/test", "iat": now, "exp": now + 3600,
        })
    }

    /// An RS256 token with exactly this header and these claims, signed with the key `kid`
    /// names (the rotated key for [`ROTATED_KID`], else the first).
    pub fn sign(header: &Value, claims: &Value) -> String {
        let kid = header["kid"].as_str().unwrap_or(KID);
        let signed = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let signature = key(kid_index(kid))
            .sign(
                Pkcs1v15Sign::new::<Sha256>(),
                &Sha256::digest(signed.as_bytes()),
            )
            .unwrap_or_else(|e| panic!("signing a test ID token: {e}"));
        format!("{signed}.{}", b64(&signature))
    }

    /// A token as Google would mint it for these claims, under [`KID`].
    pub fn mint(claims: &Value) -> String {
        Self::sign(&json!({"alg": "RS256", "kid": KID, "typ": "JWT"}), claims)
    }

    /// The classic algorithm confusion: HS256 keyed with the published public key's PEM.
    pub fn hs256_with_public_key(claims: &Value) -> String {
        let pem = key(0)
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap_or_else(|e| panic!("public key PEM: {e}"));
        let signed = format!(
            "{}.{}",
            b64(json!({"alg": "HS256", "kid": KID, "typ": "JWT"})
                .to_string()
                .as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        format!(
            "{signed}.{}",
            b64(&hmac_sha256(pem.as_bytes(), signed.as_bytes()))
        )
    }
}

/// HMAC-SHA256 (RFC 2104), by hand over `sha2`.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// One HTTP/1.1 exchange: the key set for GET [`JWKS_PATH`], 404 for anything else.
async fn answer(
    mut stream: tokio::net::TcpStream,
    state: Arc<Mutex<State>>,
    fetches: Arc<AtomicU64>,
) {
    let mut request = Vec::new();
    let mut buf = [0u8; 2048];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 * 1024 {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let line = String::from_utf8_lossy(&request);
    let wanted = line.starts_with(&format!("GET {JWKS_PATH} "));
    let (published, answering) = state
        .lock()
        .map(|s| (s.published.clone(), s.answering))
        .unwrap_or_default();
    let (status, body) = match (wanted, answering) {
        (true, true) => {
            fetches.fetch_add(1, Ordering::SeqCst);
            let keys: Vec<Value> = published.iter().map(|kid| jwk(kid)).collect();
            ("200 OK", json!({ "keys": keys }).to_string())
        }
        (true, false) => {
            fetches.fetch_add(1, Ordering::SeqCst);
            ("500 Internal Server Error", "{}".to_string())
        }
        (false, _) => ("404 Not Found", "{}".to_string()),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\n\
         cache-control: public, max-age={MAX_AGE_SECS}, must-revalidate, no-transform\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body.as_bytes()).await;
    let _ = stream.shutdown().await;
}
