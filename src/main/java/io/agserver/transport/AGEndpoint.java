package io.agserver.transport;

import java.nio.ByteBuffer;

import jakarta.websocket.CloseReason;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.MessageHandler;
import jakarta.websocket.Session;

import io.agserver.AGUpgradeRequest;
import io.agserver.core.Connection;
import io.agserver.core.Connections;
import io.agserver.ops.ConnectionSlot;

/**
 * The Jakarta WebSocket adapter: one instance per connection, handing frames, closes and errors
 * to its {@link AGServerSocket}.
 */
public final class AGEndpoint extends Endpoint {

  static final String REQUEST_PROPERTY = "io.agserver.upgradeRequest";
  /** The connection's {@link ConnectionSlot}, when its upgrade took one. */
  static final String SLOT_PROPERTY = "io.agserver.connectionSlot";

  private final Connections connections;
  private final TransportThreads threads;
  private volatile Connection socket;
  private volatile JakartaTransport transport;

  AGEndpoint(Connections connections, TransportThreads threads) {
    this.connections = connections;
    this.threads = threads;
  }

  @Override
  public void onOpen(Session session, EndpointConfig config) {
    ConnectionSlot slot = (ConnectionSlot) session.getUserProperties().get(SLOT_PROPERTY);
    long maxPayload = connections.server().options().maxPayload();
    Connection created;
    try {
      // The container refuses larger frames itself (1009 with its own reason); MessageAssembler
      // enforces maxPayload on whole messages below that.
      int limit = MessageAssembler.containerLimit(maxPayload);
      session.setMaxTextMessageBufferSize(limit);
      session.setMaxBinaryMessageBufferSize(limit);
      session.setMaxIdleTimeout(0);
      AGUpgradeRequest request = (AGUpgradeRequest) session.getUserProperties().get(REQUEST_PROPERTY);
      if (request == null) {
        request = UpgradeRequests.fromSession(session);
      }
      transport = new JakartaTransport(session, threads);
      created = connections.accept(transport, request, slot);
    } catch (RuntimeException | Error e) {
      // No socket took the slot: nothing else would free it before the sweep gives it up.
      if (slot != null) {
        slot.releaseUnclaimed();
      }
      throw e;
    }
    socket = created;
    // Partial handlers: maxPayload bounds the whole of a fragmented message (see MessageAssembler).
    MessageAssembler assembler = new MessageAssembler(created, maxPayload);
    session.addMessageHandler(String.class, (MessageHandler.Partial<String>) assembler::onText);
    session.addMessageHandler(ByteBuffer.class, (MessageHandler.Partial<ByteBuffer>) assembler::onBinary);
  }

  @Override
  public void onClose(Session session, CloseReason closeReason) {
    JakartaTransport closed = transport;
    if (closed != null) {
      closed.connectionClosed();
    }
    Connection current = socket;
    if (current != null) {
      current.closed(closeReason.getCloseCode().getCode(), closeReason.getReasonPhrase());
    }
  }

  @Override
  public void onError(Session session, Throwable error) {
    Connection current = socket;
    if (current != null) {
      current.failed(error);
    }
  }
}
