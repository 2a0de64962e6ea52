/** Docker-level facts: networks, services, containers and nodes from Docker's JSON. */
import type { Source } from '../problem';

/** A `Containers` entry of `docker network inspect`. */
export interface DockerEndpoint {
  /** The key: a container id, `ingress-sbox`, or `lb-<net>`. */
  key: string;
  name: string;
  endpointId?: string;
  mac?: string;
  /** `10.0.0.4/24` split. */
  ipv4?: { addr: string; prefixLen: number };
  ipv6?: string;
  source: Source;
}

/** A task of a service as `docker network inspect -v` lists it. */
export interface DockerNetTask {
  name: string;
  endpointId?: string;
  endpointIp?: string;
  /** `Info["Host IP"]`: the node's data-path address. */
  hostIp?: string;
  source: Source;
}

/** A `Services` entry of `docker network inspect -v`. */
export interface DockerNetService {
  name: string;
  vip?: string;
  ports: { target: number; publish: number; proto?: string }[];
  localLBIndex?: number;
  tasks: DockerNetTask[];
  source: Source;
}

/** One network of `docker network inspect`. */
export interface DockerNetwork {
  id: string;
  name: string;
  scope?: string;
  driver?: string;
  ingress: boolean;
  internal: boolean;
  subnets: { subnet: string; gateway?: string }[];
  options: Record<string, string>;
  /** VXLAN ids of an overlay (`com.docker.network.driver.overlay.vxlanid_list`). */
  vnis: number[];
  endpoints: DockerEndpoint[];
  peers: { name: string; ip: string }[];
  services: DockerNetService[];
  source: Source;
}

/** A published port of a service. */
export interface DockerPort {
  protocol: 'tcp' | 'udp' | 'sctp';
  target: number;
  published?: number;
  mode: 'ingress' | 'host';
}

/** One service of `docker service inspect`. */
export interface DockerService {
  id: string;
  name: string;
  mode: 'replicated' | 'global' | 'unknown';
  replicas?: number;
  endpointMode: 'vip' | 'dnsrr';
  ports: DockerPort[];
  vips: { networkId: string; addr: string; prefixLen: number }[];
  /** Network ids the tasks attach to (Spec.TaskTemplate.Networks). */
  networks: string[];
  image?: string;
  source: Source;
}

/** One container of `docker inspect`. */
export interface DockerContainer {
  id: string;
  name: string;
  sandboxKey?: string;
  /** The netns file's base name (from SandboxKey), used to map containers to namespace folders. */
  sandboxId?: string;
  running?: boolean;
  pid?: number;
  networks: {
    name: string;
    networkId?: string;
    endpointId?: string;
    ip?: string;
    prefixLen?: number;
    mac?: string;
    gateway?: string;
    aliases: string[];
  }[];
  /** Swarm labels: com.docker.swarm.service.name, .task.name, .node.id … */
  labels: Record<string, string>;
  ports: { containerPort: number; proto: string; hostIp?: string; hostPort?: number }[];
  source: Source;
}

/** One node of `docker node ls --format json` / `docker node inspect`. */
export interface DockerNode {
  id: string;
  hostname: string;
  addr?: string;
  role?: string;
  status?: string;
  availability?: string;
  managerStatus?: string;
  source: Source;
}

/** Everything Docker JSON in one file told. */
export interface DockerFacts {
  networks: DockerNetwork[];
  services: DockerService[];
  containers: DockerContainer[];
  nodes: DockerNode[];
}
