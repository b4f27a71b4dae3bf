/** The socket's own limits (config `realtime`); the connect and REST rate is the `realtime` route class. */
export interface SocketLimits {
  /** Open sockets per client address on one instance. */
  connectionsPerAddress: number;
  /** Open sockets whose channels carry one user's token, on one instance. */
  connectionsPerUser: number;
  channelsPerConnection: number;
  /** Frames a connection may send per second; past it frames are refused, past twice it the socket is closed. */
  eventsPerSecond: number;
  /** Bytes waiting to be sent to a client past which it is a slow consumer and is disconnected. */
  sendQueueBytes: number;
  /** Largest frame accepted (ws maxPayload) and largest REST broadcast body. */
  maxPayloadBytes: number;
  /** postgres_changes entries per join. */
  changesPerJoin: number;
  /** How often every channel's user token is checked again (a revoked session ends its channels). */
  tokenRecheckMs: number;
}
