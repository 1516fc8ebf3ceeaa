#!/bin/bash
# DevStack plugin of delfin_like: installs the service and the drivers, writes a config for
# DevStack's RabbitMQ and database plus a local Redis, migrates the schema and runs
# delfin-like-api, delfin-like-task and delfin-like-scheduler.

function install_delfin_like {
    if is_ubuntu; then
        install_package redis-server
    else
        install_package redis
    fi
    pip_install -e "$DELFIN_LIKE_DIR[postgresql,mysql,redis]"
    pip_install -e "$DELFIN_LIKE_DIR/drivers"
}

function configure_delfin_like {
    local db_url
    sudo install -d -o "$STACK_USER" "$DELFIN_LIKE_CONF_DIR" "$DELFIN_LIKE_STATE_PATH"
    # this project uses psycopg 3, not the psycopg2 that a plain postgresql:// URL selects
    db_url=$(database_connection_url delfin_like)
    db_url=${db_url/#postgresql:/postgresql+psycopg:}

    rm -f "$DELFIN_LIKE_CONF"
    iniset "$DELFIN_LIKE_CONF" DEFAULT state_path "$DELFIN_LIKE_STATE_PATH"
    iniset "$DELFIN_LIKE_CONF" DEFAULT debug "$ENABLE_DEBUG_LOG_LEVEL"
    iniset "$DELFIN_LIKE_CONF" DEFAULT transport_url "$(get_transport_url)"
    iniset "$DELFIN_LIKE_CONF" api host "$DELFIN_LIKE_API_HOST"
    iniset "$DELFIN_LIKE_CONF" api port "$DELFIN_LIKE_API_PORT"
    iniset "$DELFIN_LIKE_CONF" database connection "$db_url"
    iniset "$DELFIN_LIKE_CONF" coordination backend_url "$DELFIN_LIKE_REDIS_URL"
    iniset "$DELFIN_LIKE_CONF" security fernet_key_file "$DELFIN_LIKE_FERNET_KEY_FILE"

    # a Fernet key is 32 random bytes, url-safe base64; keep an existing one (old rows use it)
    if [[ ! -f "$DELFIN_LIKE_FERNET_KEY_FILE" ]]; then
        (umask 077; openssl rand -base64 32 | tr '+/' '-_' > "$DELFIN_LIKE_FERNET_KEY_FILE")
    fi
}

function init_delfin_like {
    if is_ubuntu; then
        start_service redis-server
    else
        start_service redis
    fi
    recreate_database delfin_like
    "$(get_python_exec_prefix)/delfin-like-db-manage" --config-file "$DELFIN_LIKE_CONF" upgrade
}

function start_delfin_like {
    local bin
    bin=$(get_python_exec_prefix)
    run_process delfin-like-api "$bin/delfin-like-api --config-file $DELFIN_LIKE_CONF"
    run_process delfin-like-task "$bin/delfin-like-task --config-file $DELFIN_LIKE_CONF"
    run_process delfin-like-scheduler "$bin/delfin-like-scheduler --config-file $DELFIN_LIKE_CONF"
}

function stop_delfin_like {
    stop_process delfin-like-api
    stop_process delfin-like-task
    stop_process delfin-like-scheduler
}

function cleanup_delfin_like {
    sudo rm -rf "$DELFIN_LIKE_STATE_PATH" "$DELFIN_LIKE_CONF_DIR"
}

if is_service_enabled delfin-like-api delfin-like-task delfin-like-scheduler; then
    if [[ "$1" == "stack" && "$2" == "install" ]]; then
        echo_summary "Installing delfin_like"
        install_delfin_like
    elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
        echo_summary "Configuring delfin_like"
        configure_delfin_like
    elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
        echo_summary "Initialising and starting delfin_like"
        init_delfin_like
        start_delfin_like
    fi
    if [[ "$1" == "unstack" ]]; then
        stop_delfin_like
    fi
    if [[ "$1" == "clean" ]]; then
        cleanup_delfin_like
    fi
fi
