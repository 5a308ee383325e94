package io.agserver.endpoint;

import java.nio.ByteBuffer;

import jakarta.websocket.CloseReason;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.MessageHandler;
import jakarta.websocket.Session;

import io.agserver.AGServer;
import io.agserver.AGServerSocket;
import io.agserver.AGUpgradeRequest;

/**
 * The Jakarta WebSocket adapter: one instance per connection, handing frames, closes and errors
 * to its {@link AGServerSocket}.
 */
public final class AGEndpoint extends Endpoint {

  static final String REQUEST_PROPERTY = "io.agserver.upgradeRequest";

  private final AGServer server;
  private final TransportThreads threads;
  private volatile AGServerSocket socket;
  private volatile JakartaTransport transport;

  AGEndpoint(AGServer server, TransportThreads threads) {
    this.server = server;
    this.threads = threads;
  }

  @Override
  public void onOpen(Session session, EndpointConfig config) {
    long maxPayload = server.options().maxPayload();
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
    AGServerSocket created = server.accept(transport, request);
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
    AGServerSocket current = socket;
    if (current != null) {
      current.transportClosed(closeReason.getCloseCode().getCode(), closeReason.getReasonPhrase());
    }
  }

  @Override
  public void onError(Session session, Throwable error) {
    AGServerSocket current = socket;
    if (current != null) {
      current.transportError(error);
    }
  }
}
