// One schema for both backends; see migrations/{sqlite,postgres}.

diesel::table! {
    customers (id) {
        id -> BigInt,
        name -> Text,
        shortname -> Text,
        autsys -> BigInt,
        cust_type -> Integer,
        status -> Integer,
        date_joined -> Nullable<Date>,
        date_left -> Nullable<Date>,
        peeringdb_oauth -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        name -> Text,
        email -> Text,
        password_hash -> Text,
        peeringdb_id -> Nullable<BigInt>,
        creator -> Text,
        disabled -> Bool,
        superuser -> Bool,
        current_customer_id -> Nullable<BigInt>,
        session_epoch -> Integer,
        last_login_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    affiliations (id) {
        id -> BigInt,
        user_id -> BigInt,
        customer_id -> BigInt,
        privilege -> Integer,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        last_login_at -> Nullable<Timestamp>,
        last_login_from -> Nullable<Text>,
        last_login_via -> Nullable<Text>,
        confirmed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_records (id) {
        id -> BigInt,
        user_id -> BigInt,
        customer_id -> Nullable<BigInt>,
        at -> Timestamp,
        address -> Text,
        method -> Text,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        subject -> Text,
        details -> Text,
    }
}

diesel::table! {
    login_failures (id) {
        id -> BigInt,
        username -> Text,
        address -> Text,
        at -> Timestamp,
        device -> Nullable<Text>,
    }
}

diesel::table! {
    password_resets (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    ixp (id) {
        id -> BigInt,
        name -> Text,
        shortname -> Text,
        ixf_id -> Nullable<BigInt>,
        peeringdb_ix_id -> Nullable<BigInt>,
        country -> Text,
        support_email -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    peering_lans (id) {
        id -> BigInt,
        name -> Text,
        vlan_id -> Integer,
        ipv4_prefix -> Nullable<Text>,
        ipv6_prefix -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    route_servers (id) {
        id -> BigInt,
        lan_id -> BigInt,
        name -> Text,
        asn -> BigInt,
        ipv4_address -> Nullable<Text>,
        ipv6_address -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    connections (id) {
        id -> BigInt,
        customer_id -> BigInt,
        lan_id -> BigInt,
        ipv4_address -> Nullable<Text>,
        ipv6_address -> Nullable<Text>,
        mac_addresses -> Text,
        speed_mbps -> BigInt,
        max_prefixes_v4 -> Nullable<Integer>,
        max_prefixes_v6 -> Nullable<Integer>,
        as_set -> Nullable<Text>,
        rs_client -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        token_hash -> Text,
        kind -> Text,
        name -> Text,
        peeringdb_user_id -> Nullable<BigInt>,
        customer_id -> Nullable<BigInt>,
        allowed_asns -> Text,
        other_asns -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    peering_sessions (id) {
        id -> BigInt,
        session_id -> Text,
        customer_id -> BigInt,
        connection_id -> BigInt,
        route_server_id -> BigInt,
        family -> Integer,
        member_asn -> BigInt,
        member_ip -> Text,
        rs_asn -> BigInt,
        rs_ip -> Text,
        rs_is_local -> Bool,
        location_id -> Text,
        status -> Text,
        requested_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    peeringdb_blocks (id) {
        id -> BigInt,
        customer_id -> BigInt,
        peeringdb_id -> BigInt,
        blocked_by -> Text,
        actor -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    peeringdb_tokens (user_id) {
        user_id -> BigInt,
        refresh_token -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    leases (name) {
        name -> Text,
        holder -> Text,
        expires_at -> Timestamp,
        last_run_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        key_hash -> Text,
        user_id -> Nullable<BigInt>,
        state -> Text,
        sid -> Text,
        address -> Text,
        user_agent -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    totp_secrets (user_id) {
        user_id -> BigInt,
        secret -> Text,
        confirmed_at -> Nullable<Timestamp>,
        last_step -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    recovery_codes (id) {
        id -> BigInt,
        user_id -> BigInt,
        code_hash -> Text,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    mail_queue (id) {
        id -> BigInt,
        recipient -> Text,
        subject -> Text,
        body -> Text,
        created_at -> Timestamp,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        failed_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    invitations (id) {
        id -> BigInt,
        customer_id -> BigInt,
        email -> Text,
        name -> Text,
        privilege -> Integer,
        known -> Bool,
        token_hash -> Text,
        invited_by -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    mail_limits (id) {
        id -> BigInt,
        kind -> Text,
        subject -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    login_lockouts (id) {
        id -> BigInt,
        subject -> Text,
        ends_at -> Timestamp,
    }
}

diesel::table! {
    login_devices (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
        last_used_at -> Timestamp,
    }
}

diesel::joinable!(affiliations -> customers (customer_id));
diesel::joinable!(peeringdb_blocks -> customers (customer_id));
diesel::joinable!(peeringdb_tokens -> users (user_id));
diesel::joinable!(affiliations -> users (user_id));
diesel::joinable!(login_records -> users (user_id));
diesel::joinable!(password_resets -> users (user_id));
diesel::joinable!(login_devices -> users (user_id));
diesel::joinable!(users -> customers (current_customer_id));
diesel::joinable!(route_servers -> peering_lans (lan_id));
diesel::joinable!(connections -> peering_lans (lan_id));
diesel::joinable!(connections -> customers (customer_id));
diesel::joinable!(invitations -> customers (customer_id));

diesel::allow_tables_to_appear_in_same_query!(
    customers,
    users,
    affiliations,
    login_records,
    audit_log,
    login_failures,
    password_resets,
    ixp,
    peering_lans,
    route_servers,
    connections,
    api_tokens,
    peering_sessions,
    peeringdb_blocks,
    peeringdb_tokens,
    leases,
    sessions,
    totp_secrets,
    recovery_codes,
    login_lockouts,
    login_devices,
    mail_queue,
    invitations,
    mail_limits,
);
