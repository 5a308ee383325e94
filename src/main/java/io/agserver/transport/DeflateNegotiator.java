package io.agserver.transport;

import java.util.List;

import jakarta.websocket.Extension;

/**
 * Chooses the permessage-deflate offer (RFC 7692) of an upgrade request that this runtime can
 * run, and returns the extension that compresses that one connection. Only runtimes with a way
 * to run an extension's code on every frame have one (Tyrus: {@link TyrusPerMessageDeflate});
 * the Jakarta WebSocket API alone can only name extensions, not implement them.
 */
interface DeflateNegotiator {

  /** The extension for this connection, or null when no offer can be accepted. */
  Extension negotiate(List<Extension> requested);
}
