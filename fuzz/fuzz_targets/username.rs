//! The username sanitizer: any name gives a valid username.
#![no_main]
use ixp_portal::domain::Username;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let name = String::from_utf8_lossy(data);
    let u = Username::sanitize(Some(&name));
    assert!(Username::parse(u.as_str()).is_ok(), "{u}");
    assert!(Username::parse(u.with_suffix(12345).as_str()).is_ok());
});
