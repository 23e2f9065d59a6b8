// Which Docker daemon the images are built in. The docker.Provider follows the
// same variables the docker CLI does, read when the program runs, so that
// `eval $(minikube docker-env)` in the shell is all it takes to build straight
// into minikube's daemon (no registry, no `minikube image load`).
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import type * as docker from "@pulumi/docker";

type Env = Record<string, string | undefined>;

/** docker.Provider arguments from DOCKER_HOST / DOCKER_TLS_VERIFY / DOCKER_CERT_PATH. */
export function dockerProviderArgs(env: Env): docker.ProviderArgs {
    const tls = env.DOCKER_TLS_VERIFY !== undefined && env.DOCKER_TLS_VERIFY !== "" && env.DOCKER_TLS_VERIFY !== "0";
    return {
        ...(env.DOCKER_HOST ? { host: env.DOCKER_HOST } : {}),
        ...(tls && env.DOCKER_CERT_PATH ? { certPath: env.DOCKER_CERT_PATH } : {}),
    };
}

/**
 * Why the Docker daemon in `env` is not the given minikube profile's, or
 * undefined when it is. `minikube docker-env` exports MINIKUBE_ACTIVE_DOCKERD
 * (the profile) together with DOCKER_HOST; without them an image would be
 * built where the cluster cannot see it and the pods would fail to start.
 */
export function minikubeDaemonProblem(profile: string, env: Env): string | undefined {
    const active = env.MINIKUBE_ACTIVE_DOCKERD;
    const fix = `run \`eval $(minikube -p ${profile} docker-env)\` in this shell, then run pulumi again`;
    if (!active || !env.DOCKER_HOST) {
        const host = env.DOCKER_HOST ? `DOCKER_HOST is ${env.DOCKER_HOST}` : "DOCKER_HOST is not set";
        return `the Docker daemon is not minikube's (${host}, MINIKUBE_ACTIVE_DOCKERD is not set): the images would be built where minikube cannot see them; ${fix}`;
    }
    if (active !== profile) {
        return `the Docker daemon is minikube profile "${active}"'s, but this stack deploys to profile "${profile}" (config minikubeProfile); ${fix}`;
    }
    return undefined;
}

/**
 * True when the program runs under Pulumi mocks (unit tests, the offline
 * render): there is no Docker daemon or cluster to check then.
 */
export function runningUnderMocks(): boolean {
    return pulumi.runtime.getMonitor() instanceof MockMonitor;
}
