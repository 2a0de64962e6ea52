/** The IPVS part of the model: virtual services, their real servers and connection entries. */
import type { Source } from '../problem';

/** How a real server is reached (ipvsadm's Forward column). */
export type IpvsForward = 'Masq' | 'Route' | 'Tunnel' | 'Local';

/** A real server (destination) of a virtual service. */
export interface IpvsDest {
  /** Address as printed; a hostname when the dump was taken without -n. */
  addr: string;
  /** Port; 0 for fwmark services, which keep the packet's own destination port. */
  port: number;
  forward: IpvsForward;
  weight: number;
  activeConn?: number;
  inactConn?: number;
  /** --stats / --rate columns, when printed. */
  stats?: Record<string, number>;
  source: Source;
}

/** A virtual service: `TCP 10.0.0.5:80 rr`, `FWM 256 rr`. */
export interface IpvsService {
  proto: 'tcp' | 'udp' | 'sctp' | 'fwm';
  /** For tcp/udp/sctp. */
  addr?: string;
  port?: number;
  /** For fwm. */
  fwmark?: number;
  ipv6?: boolean;
  scheduler: string;
  persistent?: number;
  netmask?: string;
  pe?: string;
  ops?: boolean;
  stats?: Record<string, number>;
  dests: IpvsDest[];
  source: Source;
}

/** An entry of `ipvsadm -Lnc`. */
export interface IpvsConn {
  proto: string;
  expire: string;
  state: string;
  client: string;
  virtual: string;
  dest: string;
  source: Source;
}

/** Everything one IPVS dump told about a namespace. */
export interface IpvsTable {
  version?: string;
  /** Set when the dump says IPVS is unavailable ("Can't initialize ipvs: Protocol not available"). */
  unavailable?: string;
  services: IpvsService[];
  conns: IpvsConn[];
}
