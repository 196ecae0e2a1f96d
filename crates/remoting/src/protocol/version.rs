//! The `version` a client sends is the ordinal of Java's `MQVersion.Version` enum; tools show
//! its name (`MQVersion.getVersionDesc`): 479 is `V5_3_3`, 409 is `V4_9_8`.
//!
//! The enum's order: sixteen 3.0.0 pre-releases, then for every later version a `_SNAPSHOT` and
//! the release, 3.0.1 to 3.0.15, 3.1.x and 3.2.x (patch 0-9), 3.3.x to 3.9.x (patch 1-9), then
//! 4.0.0 to 5.9.9 (every minor and patch 0-9), then `HIGHER_VERSION`.

const V3_0_0: [&str; 16] = [
    "SNAPSHOT",
    "ALPHA1",
    "BETA1",
    "BETA2",
    "BETA3",
    "BETA4",
    "BETA5",
    "BETA6_SNAPSHOT",
    "BETA6",
    "BETA7_SNAPSHOT",
    "BETA7",
    "BETA8_SNAPSHOT",
    "BETA8",
    "BETA9_SNAPSHOT",
    "BETA9",
    "FINAL",
];

/// The ordinal of `V4_0_0_SNAPSHOT`.
const V4_START: i32 = 212;
/// The ordinal of `HIGHER_VERSION` (after `V5_9_9`).
const HIGHER: i32 = V4_START + 2 * 200;

/// Java's name for the client version `ordinal` (`HIGHER_VERSION` past the last one it knows).
pub fn version_desc(ordinal: i32) -> String {
    if ordinal < 0 {
        return format!("UNKNOWN({ordinal})");
    }
    if ordinal >= HIGHER {
        return "HIGHER_VERSION".to_owned();
    }
    if let Some(name) = V3_0_0.get(ordinal as usize) {
        return format!("V3_0_0_{name}");
    }
    // (first ordinal, major, minor, first patch, patches) of each later run of versions.
    let runs: [(i32, i32, i32, i32, i32); 11] = [
        (16, 3, 0, 1, 15),
        (46, 3, 1, 0, 10),
        (66, 3, 2, 0, 10),
        (86, 3, 3, 1, 9),
        (104, 3, 4, 1, 9),
        (122, 3, 5, 1, 9),
        (140, 3, 6, 1, 9),
        (158, 3, 7, 1, 9),
        (176, 3, 8, 1, 9),
        (194, 3, 9, 1, 9),
        (V4_START, 4, 0, 0, 200),
    ];
    let Some(&(start, major, minor, first, _)) = runs.iter().rev().find(|r| r.0 <= ordinal) else {
        return format!("UNKNOWN({ordinal})");
    };
    let step = (ordinal - start) / 2;
    let release = (ordinal - start) % 2 == 1;
    let (major, minor, patch) = if major == 4 {
        (4 + step / 100, step / 10 % 10, step % 10)
    } else {
        (major, minor, first + step)
    };
    let suffix = if release { "" } else { "_SNAPSHOT" };
    format!("V{major}_{minor}_{patch}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::version_desc;

    #[test]
    fn names_match_java_ordinals() {
        for (ordinal, name) in [
            (0, "V3_0_0_SNAPSHOT"),
            (15, "V3_0_0_FINAL"),
            (16, "V3_0_1_SNAPSHOT"),
            (45, "V3_0_15"),
            (46, "V3_1_0_SNAPSHOT"),
            (85, "V3_2_9"),
            (86, "V3_3_1_SNAPSHOT"),
            (211, "V3_9_9"),
            (212, "V4_0_0_SNAPSHOT"),
            (409, "V4_9_8"),
            (479, "V5_3_3"),
            (611, "V5_9_9"),
            (612, "HIGHER_VERSION"),
            (9999, "HIGHER_VERSION"),
            (-1, "UNKNOWN(-1)"),
        ] {
            assert_eq!(version_desc(ordinal), name, "ordinal {ordinal}");
        }
    }
}
