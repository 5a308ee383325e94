# syntax=docker/dockerfile:1
# agserver on Open Liberty, built from the sources in two stages: Maven (with Node.js, for the demo
# page's browser client from npm) builds the WAR, then the official Open Liberty image runs it
# (Open Liberty's documented layout: the server configuration in /config, applications in
# /config/apps, features.sh then configure.sh).
#
#   docker build -t agserver .              # from a fresh clone, nothing built before
#   docker run --rm -p 9080:9080 -e SOCKETCLUSTER_AUTHKEY=change-me agserver
#
# Clients connect to ws://HOST:9080/socketcluster/. Configuration comes from environment
# variables: every MicroProfile Config key socketcluster.<option> as SOCKETCLUSTER_<OPTION>
# (SOCKETCLUSTER_PINGINTERVAL=5000), and server.xml's variables as default_http_port /
# default_http_host. See README.md, "Docker".
#
# kernel-slim: features.sh installs only the features server.xml names. Pin the Liberty release
# with e.g. --build-arg LIBERTY_TAG=26.0.0.3-kernel-slim-java17-openj9-ubi (the one the build tests).
ARG LIBERTY_TAG=kernel-slim-java17-openj9-ubi

FROM maven:3.9-eclipse-temurin-17 AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /build
# Maven's repository is a build cache: kept between builds, never in the image.
COPY pom.xml ./
COPY src ./src
COPY server-config ./server-config
# AGSERVER_FRONTEND_REQUIRED: the image must carry the page's client; a build without npm fails.
RUN --mount=type=cache,target=/root/.m2 AGSERVER_FRONTEND_REQUIRED=1 mvn -B -ntp -DskipTests package

FROM icr.io/appcafe/open-liberty:${LIBERTY_TAG}

# server.xml: websocket-2.1, cdi-4.0, mpConfig-3.1, concurrent-3.0, jndi-1.0, mpHealth-4.0,
# mpMetrics-5.1; HTTP on ${default.http.port} (9080) on all interfaces (default.http.host=*); the
# application apps/agserver.war at context root /. Probes: /health/live, /health/ready,
# /health/started; Prometheus metrics at /metrics (README, Operations).
COPY --chown=1001:0 server-config/liberty/ /config/
RUN features.sh

COPY --from=build --chown=1001:0 /build/target/agserver.war /config/apps/agserver.war
RUN configure.sh

EXPOSE 9080
