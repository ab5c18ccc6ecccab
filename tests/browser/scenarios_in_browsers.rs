//! The scenario table shared with the native backend (`tests/scenarios`),
//! run in the browser: the same code, the same server, the same outcome.

use wasm_bindgen_test::wasm_bindgen_test;

use crate::scenarios;

macro_rules! browser_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[wasm_bindgen_test]
            async fn $name() {
                scenarios::leak_checked(scenarios::$name()).await;
            }
        )*
    };
}

scenario_table!(browser_tests);

#[cfg(feature = "json")]
mod json {
    use super::*;
    json_scenario_table!(browser_tests);
}
