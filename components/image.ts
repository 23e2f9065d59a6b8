import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import { contextDigest } from "./build-context";

export interface AppImageArgs {
    /** Repository name of the image, e.g. "todo-backend". */
    readonly repository: string;
    /** Absolute path of the Pulumi project: build paths are relative to it. */
    readonly projectRoot: string;
    /** Build context, relative to projectRoot, e.g. "app/backend". */
    readonly context: string;
    /** Dockerfile, relative to projectRoot. @default "<context>/Dockerfile" */
    readonly dockerfile?: string;
    /** Target platform of the build, e.g. "linux/amd64". */
    readonly platform: string;
    /** Dockerfile stage to build. @default the last stage */
    readonly target?: string;
    /**
     * Registry to push to, e.g. "ghcr.io/acme": the pods then run the pushed
     * digest. Unset, the image stays in the Docker daemon the provider talks to
     * (minikube's, after `eval $(minikube docker-env)`). @default undefined
     */
    readonly registry?: string;
}

/**
 * One application image, built with `docker build` from its own folder. The tag
 * is the digest of the build context, so the reference the pods run changes
 * whenever the source changes, and only then.
 */
export class AppImage extends pulumi.ComponentResource {
    /** The reference the pods run: the pushed digest with a registry, else name:tag. */
    public readonly imageRef: pulumi.Output<string>;
    /** name:tag as built. */
    public readonly imageName: pulumi.Output<string>;
    /** The content tag (the first 20 hex digits of the build-context digest). */
    public readonly tag: string;
    /** Pull policy matching where the image lives. */
    public readonly pullPolicy: "IfNotPresent" | "Never";

    constructor(name: string, args: AppImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("todo-chatbot:image:AppImage", name, {}, opts);
        const dockerfile = args.dockerfile ?? path.posix.join(args.context, "Dockerfile");

        const { digest, warning } = contextDigest({
            context: path.resolve(args.projectRoot, args.context),
            dockerfile: path.resolve(args.projectRoot, dockerfile),
            buildSettings: { dockerfile, platform: args.platform, target: args.target },
        });
        if (warning) pulumi.log.warn(`${args.repository}: ${warning}`, this);
        this.tag = digest.slice(0, 20);

        const repository = args.registry ? `${args.registry}/${args.repository}` : args.repository;
        const image = new docker.Image(
            name,
            {
                imageName: `${repository}:${this.tag}`,
                // Relative to the project directory, where Pulumi runs the program and the
                // provider, so the state does not depend on where the repository is checked out.
                build: {
                    context: args.context,
                    dockerfile,
                    platform: args.platform,
                    ...(args.target ? { target: args.target } : {}),
                    builderVersion: "BuilderBuildKit",
                    args: {},
                },
                skipPush: !args.registry,
                buildOnPreview: false,
            },
            { parent: this },
        );

        this.imageName = image.imageName;
        // A local image's repoDigest is only its ID, which a pod cannot name.
        this.imageRef = args.registry ? image.repoDigest : image.imageName;
        this.pullPolicy = args.registry ? "IfNotPresent" : "Never";
        this.registerOutputs({ imageRef: this.imageRef, imageName: this.imageName, tag: this.tag });
    }
}
