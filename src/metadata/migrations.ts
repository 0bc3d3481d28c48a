/**
 * Schema migrations, applied in order; the database's `user_version` is how many ran.
 * Never edit a released migration: append a new one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: images, tags, snapshots, leases
  `
  CREATE TABLE images (
    id              TEXT PRIMARY KEY,          -- config digest: Docker's image ID
    manifest_digest TEXT NOT NULL,             -- the manifest gantry keeps for the image
    manifest_type   TEXT NOT NULL,
    created         TEXT,                      -- config.created
    size            INTEGER NOT NULL,          -- unpacked size of all layers
    parent          TEXT NOT NULL DEFAULT '',  -- parent image ID (set by the builder)
    added_at        TEXT NOT NULL,
    last_tag_time   TEXT
  );
  CREATE TABLE image_layers (
    image_id    TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    idx         INTEGER NOT NULL,
    diff_id     TEXT NOT NULL,
    chain_id    TEXT NOT NULL,
    blob_digest TEXT NOT NULL,
    media_type  TEXT NOT NULL,
    blob_size   INTEGER NOT NULL,
    PRIMARY KEY (image_id, idx)
  );
  CREATE INDEX image_layers_chain ON image_layers(chain_id);
  CREATE INDEX image_layers_blob ON image_layers(blob_digest);
  -- name: a full reference, "docker.io/library/busybox:latest" or "...@sha256:..."
  CREATE TABLE image_names (
    name      TEXT PRIMARY KEY,
    kind      TEXT NOT NULL CHECK (kind IN ('tag', 'digest')),
    image_id  TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL
  );
  CREATE INDEX image_names_image ON image_names(image_id);
  CREATE TABLE snapshots (
    chain_id   TEXT PRIMARY KEY,
    parent     TEXT NOT NULL DEFAULT '',
    diff_id    TEXT NOT NULL,
    size       INTEGER NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE TABLE leases (
    id         TEXT PRIMARY KEY,
    pid        INTEGER NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE TABLE lease_resources (
    lease_id TEXT NOT NULL REFERENCES leases(id) ON DELETE CASCADE,
    kind     TEXT NOT NULL CHECK (kind IN ('blob', 'snapshot')),
    key      TEXT NOT NULL,
    PRIMARY KEY (lease_id, kind, key)
  );
  `,
  // 2: containers and volumes
  `
  CREATE TABLE containers (
    id            TEXT PRIMARY KEY,              -- 64 hex digits
    name          TEXT NOT NULL UNIQUE,          -- without Docker's leading "/"
    image_id      TEXT NOT NULL,                 -- the image it was created from (kept by GC)
    created       TEXT NOT NULL,
    spec          TEXT NOT NULL,                 -- JSON: {config, hostConfig, resolved details}
    status        TEXT NOT NULL,                 -- created|running|paused|restarting|removing|exited|dead
    pid           INTEGER NOT NULL DEFAULT 0,    -- container init pid while running
    monitor_pid   INTEGER NOT NULL DEFAULT 0,    -- conmon
    monitor_start INTEGER NOT NULL DEFAULT 0,    -- conmon start time (clock ticks since boot)
    boot_id       TEXT NOT NULL DEFAULT '',      -- host boot the process ran in
    run_gen       INTEGER NOT NULL DEFAULT 0,    -- increments on every start
    exit_code     INTEGER NOT NULL DEFAULT 0,
    oom_killed    INTEGER NOT NULL DEFAULT 0,
    error         TEXT NOT NULL DEFAULT '',
    started_at    TEXT NOT NULL DEFAULT '',
    finished_at   TEXT NOT NULL DEFAULT '',
    restart_count INTEGER NOT NULL DEFAULT 0,
    stopped_by_user INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX containers_image ON containers(image_id);
  CREATE TABLE volumes (
    name       TEXT PRIMARY KEY,
    driver     TEXT NOT NULL DEFAULT 'local',
    created    TEXT NOT NULL,
    labels     TEXT NOT NULL DEFAULT '{}',        -- JSON object
    options    TEXT NOT NULL DEFAULT '{}',        -- JSON object
    anonymous  INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE container_volumes (
    container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
    volume       TEXT NOT NULL REFERENCES volumes(name),
    PRIMARY KEY (container_id, volume)
  );
  CREATE INDEX container_volumes_volume ON container_volumes(volume);
  `,
  // 3: the build cache
  `
  CREATE TABLE build_cache (
    key           TEXT PRIMARY KEY,        -- a step's cache key (sha256 of parent key + step)
    config_digest TEXT NOT NULL,           -- the stage's image config after the step (a blob)
    description   TEXT NOT NULL,           -- the step, as progress shows it
    size          INTEGER NOT NULL DEFAULT 0, -- bytes of the layer the step made (0: none)
    created_at    TEXT NOT NULL,
    last_used     TEXT NOT NULL
  );
  CREATE TABLE build_cache_layers (
    key         TEXT NOT NULL REFERENCES build_cache(key) ON DELETE CASCADE,
    idx         INTEGER NOT NULL,
    diff_id     TEXT NOT NULL,
    chain_id    TEXT NOT NULL,
    blob_digest TEXT NOT NULL,
    media_type  TEXT NOT NULL,
    blob_size   INTEGER NOT NULL,
    PRIMARY KEY (key, idx)
  );
  CREATE INDEX build_cache_layers_chain ON build_cache_layers(chain_id);
  `,
  // 4: networks and the containers' endpoints on them
  `
  CREATE TABLE networks (
    id          TEXT PRIMARY KEY,              -- 64 hex digits
    name        TEXT NOT NULL UNIQUE,
    driver      TEXT NOT NULL,                 -- bridge | host | null
    created     TEXT NOT NULL,
    spec        TEXT NOT NULL                  -- JSON: subnet, gateway, bridge, options, labels, egress
  );
  CREATE TABLE container_networks (
    container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
    network_id   TEXT NOT NULL REFERENCES networks(id) ON DELETE CASCADE,
    idx          INTEGER NOT NULL,             -- order of connection (0: the primary network)
    aliases      TEXT NOT NULL DEFAULT '[]',   -- JSON array (--network-alias)
    ipv4_config  TEXT NOT NULL DEFAULT '',     -- --ip
    state        TEXT NOT NULL DEFAULT '',     -- '' | attaching | attached
    endpoint_id  TEXT NOT NULL DEFAULT '',
    if_name      TEXT NOT NULL DEFAULT '',
    ip           TEXT NOT NULL DEFAULT '',     -- address/prefix while attached
    gateway      TEXT NOT NULL DEFAULT '',
    mac          TEXT NOT NULL DEFAULT '',
    ports        TEXT NOT NULL DEFAULT '[]',   -- JSON: host port bindings made on attach
    dns_names    TEXT NOT NULL DEFAULT '[]',   -- JSON: names the network's DNS answers for it
    dns_upstream TEXT NOT NULL DEFAULT '[]',   -- JSON: the container's --dns (where other names go)
    result       TEXT NOT NULL DEFAULT '',     -- the CNI result of ADD
    PRIMARY KEY (container_id, network_id)
  );
  CREATE INDEX container_networks_network ON container_networks(network_id);
  `,
];
