//! Every shipped broker config loads cleanly, and bad configs fail naming the key and value.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use rmq_broker::BrokerStartupConfig;
use rmq_store::BrokerRole;

fn deploy_confs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/conf");
    let mut out = vec![
        root.join("broker.conf"),
        root.join("acl/broker-acl.conf"),
        root.join("acl/broker-acl2.conf"),
        root.join("tls/broker-tls.conf"),
    ];
    for mode in ["2m-noslave", "2m-2s-async", "2m-2s-sync"] {
        for e in std::fs::read_dir(root.join(mode)).unwrap() {
            out.push(e.unwrap().path());
        }
    }
    out
}

#[test]
fn shipped_configs_load_without_unknown_keys() {
    let confs = deploy_confs();
    assert!(confs.len() >= 13);
    for p in confs {
        let (cfg, unknown) = BrokerStartupConfig::load(Some(&p), Some("127.0.0.1:9876")).unwrap();
        assert!(
            unknown.is_empty(),
            "{}: unknown keys {unknown:?}",
            p.display()
        );
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.contains("-s.") {
            assert_eq!(cfg.store.broker_role, BrokerRole::Slave, "{name}");
            assert!(cfg.broker.broker_id > 0);
        } else {
            assert_eq!(cfg.broker.broker_id, 0, "{name}");
        }
        assert_eq!(cfg.namesrv_addrs(), vec!["127.0.0.1:9876".to_string()]);
    }
}

#[test]
fn bad_values_name_key_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.properties");
    for (line, key, value) in [
        ("listenPort=eleven", "listenPort", "eleven"),
        ("brokerRole=LEADER", "brokerRole", "LEADER"),
        ("autoCreateTopicEnable=yes", "autoCreateTopicEnable", "yes"),
        ("namesrvAddr=nohostport", "namesrvAddr", "nohostport"),
    ] {
        std::fs::write(&p, format!("{line}\n")).unwrap();
        let err = BrokerStartupConfig::load(Some(&p), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains(key) && err.contains(value), "{err}");
    }
    std::fs::write(&p, "brokerRole=SLAVE\nbrokerId=0\n").unwrap();
    let err = BrokerStartupConfig::load(Some(&p), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("brokerId"), "{err}");
    let err = BrokerStartupConfig::load(Some(&dir.path().join("missing.properties")), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing.properties"), "{err}");
}

#[test]
fn unknown_keys_are_reported_and_aliases_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("b.properties");
    std::fs::write(
        &p,
        "mapedFileSizeCommitLog=1048576\nnoSuchKey=1\nbrokerIP1=10.0.0.1\n",
    )
    .unwrap();
    let (cfg, unknown) = BrokerStartupConfig::load(Some(&p), None).unwrap();
    assert_eq!(unknown, vec!["noSuchKey".to_string()]);
    assert_eq!(cfg.store.mapped_file_size_commit_log, 1_048_576);
    assert!(cfg.render().contains("brokerIP1=10.0.0.1"));
}

#[test]
fn keys_without_effect_are_named_at_start() {
    for p in deploy_confs() {
        let (cfg, _) = BrokerStartupConfig::load(Some(&p), None).unwrap();
        let found = rmq_broker::unsupported::unsupported_settings(&cfg);
        assert!(found.is_empty(), "{}: {found:?}", p.display());
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("acl.properties");
    // aclEnable is honoured now: only the thread pool key is named.
    std::fs::write(&p, "aclEnable=true\nserverWorkerThreads=16\n").unwrap();
    let (cfg, unknown) = BrokerStartupConfig::load(Some(&p), None).unwrap();
    assert!(unknown.is_empty());
    let lines: Vec<String> = rmq_broker::unsupported::unsupported_settings(&cfg)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("serverWorkerThreads=16 is accepted but not supported yet"));
}

/// The controller mode's broker files load with no unknown key, start as fenced slaves and
/// name the three controllers; a controller-mode broker without `controllerAddr` is refused.
#[test]
fn controller_mode_configs_load() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/conf/controller");
    let mut brokers = 0;
    for e in std::fs::read_dir(&root).unwrap() {
        let p = e.unwrap().path();
        if !p
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("broker-")
        {
            continue;
        }
        brokers += 1;
        let (cfg, unknown) = BrokerStartupConfig::load(Some(&p), Some("127.0.0.1:9876")).unwrap();
        assert!(
            unknown.is_empty(),
            "{}: unknown keys {unknown:?}",
            p.display()
        );
        assert!(cfg.controller.enable_controller_mode);
        assert_eq!(cfg.store.broker_role, BrokerRole::Slave);
        assert_eq!(cfg.controller.controllers().len(), 3);
        let found = rmq_broker::unsupported::unsupported_settings(&cfg);
        assert!(found.is_empty(), "{}: {found:?}", p.display());
    }
    assert_eq!(brokers, 4);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.properties");
    std::fs::write(&p, "enableControllerMode=true\n").unwrap();
    let err = BrokerStartupConfig::load(Some(&p), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("controllerAddr"), "{err}");
}

#[test]
fn the_shipped_acl_file_parses() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/conf/acl/plain_acl.yml");
    let acl = rmq_broker::acl::Acl::load(&path).unwrap();
    assert_eq!(acl.path(), path.as_path());
    let text = std::fs::read_to_string(&path).unwrap();
    let rules = rmq_broker::acl::PlainAcl::parse(&text).unwrap();
    assert_eq!(rules.accounts.len(), 2);
    assert!(rules.accounts["ops-admin"].admin);
}

#[test]
fn acl_2_start_users_parse_and_mistakes_are_named() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/conf");
    let (cfg, _) =
        BrokerStartupConfig::load(Some(&root.join("acl/broker-acl2.conf")), None).unwrap();
    assert!(cfg.broker.auth_v2());
    assert_eq!(cfg.broker.init_user().unwrap().unwrap().name, "ops-admin");
    let inner = cfg.broker.inner_credentials().unwrap().unwrap();
    assert_eq!(inner.access_key, "broker-inner");

    let mut bad = cfg.broker.clone();
    bad.init_authentication_user = "{username: ops}".into();
    let err = bad.init_user().unwrap_err();
    assert!(err.contains("initAuthenticationUser"), "{err}");
    bad.inner_client_authentication_credentials = r#"{"accessKey":"","secretKey":"x"}"#.into();
    let err = bad.inner_credentials().unwrap_err();
    assert!(
        err.contains("innerClientAuthenticationCredentials"),
        "{err}"
    );

    // 1.0 and 2.0 at once: the broker refuses to start, naming both.
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(rmq_broker::acl::v2::AuthStore::load(dir.path()).unwrap());
    let mut both = cfg.broker.clone();
    both.acl_enable = true;
    let err = rmq_broker::acl::gate_for(&both, &store)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("aclEnable") && err.contains("authenticationEnabled"),
        "{err}"
    );
}
