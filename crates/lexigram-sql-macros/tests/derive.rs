//! Compile-fail tests for `#[derive(Entity)]` misuse, and a passing derive.

#[test]
fn entity_derive_diagnostics() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass_*.rs");
    t.compile_fail("tests/ui/fail_*.rs");
}
