//! The PeeringDB profile parser: any bytes give a profile or an error.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = ixp_portal::peeringdb::Profile::parse(data) {
        assert!(p.id > 0);
        let _ = p.display_name();
        let _ = p.affiliated_asns();
    }
});
