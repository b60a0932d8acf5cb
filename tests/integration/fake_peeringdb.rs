//! `ixp-portal fake-peeringdb`: the simulator alone, as a process, serves
//! the three endpoints with profiles from a JSON file, well enough for a
//! portal to sign a person in through it.
use crate::both_backends;
use crate::common::{Backend, CLIENT_ID, CLIENT_SECRET, Opts, location, profile, spawn_with};
use ixp_portal::peeringdb::simulator::{SimConfig, Simulator};
use std::process::{Child, Command, Stdio};

both_backends!(a_portal_signs_in_through_the_fake_peeringdb_process);

/// The simulator process, stopped when the test ends.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn a_portal_signs_in_through_the_fake_peeringdb_process(b: Backend) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("profiles.json");
    let profiles = serde_json::json!([profile(7, "Pat Process", &[64500])]);
    std::fs::write(&file, profiles.to_string()).expect("profiles file");
    let bind = format!("127.0.0.1:{}", free_port());
    let _process = Process(
        Command::new(env!("CARGO_BIN_EXE_ixp-portal"))
            .args(["fake-peeringdb", "--bind", &bind, "--profiles"])
            .arg(&file)
            .args(["--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET])
            .current_dir(dir.path())
            .env_clear()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary runs"),
    );
    let mut up = false;
    for _ in 0..400 {
        if std::net::TcpStream::connect(&bind).is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(up, "fake-peeringdb listens on {bind}");
    let base = format!("http://{bind}");
    // The in-process simulator is not used: the portal talks to the process.
    let unused = Simulator::new(
        SimConfig {
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            redirect_uris: vec![],
        },
        vec![],
    );
    let opts = Opts {
        sim: Some((unused, base)),
        ..Opts::default()
    };
    let Some(app) = spawn_with(b, opts).await else {
        return;
    };
    crate::staff::add_customer(&app, "Example Networks", "examplenet", 64500);
    let r = app.peeringdb_login(0).await;
    assert_eq!(location(&r), "/", "signed in through the process");
    let user = app.with_conn(|c| ixp_portal::db::users::by_peeringdb_id(c, 7).expect("query"));
    assert_eq!(user.map(|u| u.username).as_deref(), Some("pat.process"));
}
