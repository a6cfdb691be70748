//! No input may panic the parser.

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        let _ = deployer_config::parse(&text, "fuzz.yml").map_err(|e| e.to_string());
    }

    #[test]
    fn yaml_like_strings_never_panic(text in "[a-z{}\\[\\]:,'\"#!&*|>\\- \n\t0-9.]{0,200}") {
        let _ = deployer_config::parse(&text, "fuzz.yml").map_err(|e| e.to_string());
    }

    #[test]
    fn mutated_sample_never_panics(cut in 0usize..2000, insert in "[a-z:{}\\[\\] \n-]{0,8}") {
        let sample = include_str!("../../../examples/storefront/.github/deployer.yml");
        let mut at = cut.min(sample.len());
        while !sample.is_char_boundary(at) { at -= 1; }
        let text = format!("{}{}{}", &sample[..at], insert, &sample[at..]);
        let _ = deployer_config::parse(&text, "fuzz.yml").map_err(|e| e.to_string());
    }
}
