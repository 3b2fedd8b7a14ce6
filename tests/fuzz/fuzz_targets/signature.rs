#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    onsite_testkit::fuzz::signature(data);
});
