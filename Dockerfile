# sluice on Debian 12 (bookworm): a build stage that compiles build/sluice
# with the same packages tests/deps.sh installs, and a runtime stage with only
# the shared libraries it links against.
#
#   docker build -t sluice .
#   docker run --rm sluice --version
#   docker run -v "$PWD/pipeline.yaml:/etc/sluice/sluice.yaml:ro" \
#              -v sluice-state:/var/lib/sluice sluice
#
# docker-compose.yml runs it against MySQL 8.4 and Kafka.

FROM debian:12-slim AS build

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        gcc make libc6-dev pkg-config zlib1g-dev libzstd-dev \
        libmariadb-dev libyaml-dev libpcre2-dev libjansson-dev librdkafka-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .
RUN make -j"$(nproc)" \
 && ./build/sluice --version


FROM debian:12-slim

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libmariadb3 librdkafka1 libyaml-0-2 libpcre2-8-0 libjansson4 \
        libzstd1 zlib1g ca-certificates \
 && rm -rf /var/lib/apt/lists/*

# A fixed uid/gid, so a bind-mounted state directory can be chowned to it
# (chown 10001:10001 DIR). The home is the state directory; the source
# registry (sluice source add) then lives there too, under .local/share/sluice.
RUN groupadd --gid 10001 sluice \
 && useradd --uid 10001 --gid sluice --home-dir /var/lib/sluice \
        --no-create-home --shell /usr/sbin/nologin sluice \
 && mkdir -p /etc/sluice /var/lib/sluice /lake \
 && chown sluice:sluice /var/lib/sluice /lake \
 && chmod 0750 /var/lib/sluice

COPY --from=build /src/build/sluice /usr/local/bin/sluice
# Fails the build when a runtime library is missing.
RUN sluice --version

# Checkpoints and schema history: keep them across restarts and upgrades,
# or sluice starts over from scan.startup.mode. A named volume mounted here
# takes the directory's owner from the image.
VOLUME ["/var/lib/sluice"]
# sluice merge's tables (docker-compose.yml's lake volume): owned by the
# sluice user so that a named volume mounted here is writable.
VOLUME ["/lake"]
WORKDIR /var/lib/sluice

USER sluice:sluice

# sluice run stops cleanly (after a last checkpoint) on SIGTERM, which is
# what docker stop sends.
ENTRYPOINT ["sluice"]
CMD ["run", "-c", "/etc/sluice/sluice.yaml"]
