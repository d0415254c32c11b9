/** Settings of the clustering of unusual images. */
export interface ClusterSettings {
  /** An image joins the nearest cluster within this distance (standardised descriptor units)... */
  radius: number;
  /** ...else starts a new one; beyond this many, the cluster seen longest ago is dropped. */
  maxClusters: number;
  /** Growth is counted over this many images... */
  growthWindow: number;
  /** ...and a cluster is emerging when it gained at least this many in the last window, more than in the one before. */
  minGrowth: number;
  /** Thumbnails kept per cluster. */
  thumbnails: number;
}

export interface ClusterSummary {
  id: number;
  size: number;
  /** Members among the last `growthWindow` images, and among the window before it. */
  recent: number;
  previous: number;
  emerging: boolean;
  firstSeen: number;
  lastSeen: number;
  /** Small images of members (data URLs), as the server attached them. */
  thumbnails: string[];
  /** Why the members were unusual, counted: "outlier", "review", "reject". */
  reasons: Record<string, number>;
}

interface Cluster {
  id: number;
  centroid: number[];
  members: number[];
  firstSeen: number;
  size: number;
  thumbnails: string[];
  reasons: Record<string, number>;
}

/**
 * Leader clustering of recent unusual images (outliers, pages sent to review) in descriptor
 * space: each joins the nearest cluster within `radius`, whose centre follows its members. A
 * cluster that keeps growing is a new kind of input emerging.
 */
export class UnusualClusters {
  private clusters: Cluster[] = [];
  private nextId = 1;

  constructor(private readonly settings: ClusterSettings) {}

  /** Files an unusual image (its position `index` in the stream); answers its cluster and whether a thumbnail is wanted. */
  add(point: readonly number[], index: number, reason: string): { cluster: number; wantsThumbnail: boolean } {
    let best: Cluster | undefined;
    let bestDistance = this.settings.radius;
    for (const cluster of this.clusters) {
      const distance = Math.sqrt(cluster.centroid.reduce((sum, c, k) => sum + (c - point[k]) ** 2, 0));
      if (distance <= bestDistance) [best, bestDistance] = [cluster, distance];
    }
    if (best === undefined) {
      best = { id: this.nextId++, centroid: [...point], members: [], firstSeen: index, size: 0, thumbnails: [], reasons: {} };
      this.clusters.push(best);
    }
    const joined = best;
    joined.size++;
    joined.centroid = joined.centroid.map((c, k) => c + (point[k] - c) / joined.size);
    joined.members.push(index);
    if (joined.members.length > 2 * this.settings.growthWindow) joined.members.shift();
    joined.reasons[reason] = (joined.reasons[reason] ?? 0) + 1;
    if (this.clusters.length > this.settings.maxClusters) {
      this.clusters.sort((a, b) => b.members[b.members.length - 1] - a.members[a.members.length - 1]);
      this.clusters.length = this.settings.maxClusters;
    }
    return { cluster: joined.id, wantsThumbnail: joined.thumbnails.length < this.settings.thumbnails };
  }

  attachThumbnail(cluster: number, thumbnail: string): void {
    const found = this.clusters.find((c) => c.id === cluster);
    if (found !== undefined && found.thumbnails.length < this.settings.thumbnails) found.thumbnails.push(thumbnail);
  }

  /** Every cluster as of image `index`, largest recent growth first. */
  summary(index: number): ClusterSummary[] {
    const window = this.settings.growthWindow;
    return this.clusters
      .map((c) => {
        const recent = c.members.filter((m) => m > index - window).length;
        const previous = c.members.filter((m) => m <= index - window && m > index - 2 * window).length;
        return {
          id: c.id,
          size: c.size,
          recent,
          previous,
          emerging: recent >= this.settings.minGrowth && recent > previous,
          firstSeen: c.firstSeen,
          lastSeen: c.members[c.members.length - 1],
          thumbnails: [...c.thumbnails],
          reasons: { ...c.reasons },
        };
      })
      .sort((a, b) => b.recent - a.recent || b.size - a.size);
  }
}
