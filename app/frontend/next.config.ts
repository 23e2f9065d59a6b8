import type { NextConfig } from "next";

import { SECURITY_HEADERS } from "./lib/security-headers";

const nextConfig: NextConfig = {
  // The image ships only .next/standalone (plus static assets), not node_modules.
  output: "standalone",
  poweredByHeader: false,
  reactStrictMode: true,
  // This folder is one of two apps in the repository; without a pinned root,
  // Next guesses the workspace root from lockfiles higher up and nests the
  // standalone output under app/frontend/.
  outputFileTracingRoot: __dirname,
  turbopack: { root: __dirname },
  // The app shows no raster images, so it needs no image optimiser; leaving out
  // sharp and its libvips binaries halves the standalone output.
  images: { unoptimized: true },
  outputFileTracingExcludes: { "*": ["node_modules/sharp/**", "node_modules/@img/**"] },
  async headers() {
    return [{ source: "/:path*", headers: [...SECURITY_HEADERS] }];
  },
};

export default nextConfig;
