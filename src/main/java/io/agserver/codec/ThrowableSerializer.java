package io.agserver.codec;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import java.io.IOException;
import java.util.Map;
import io.agserver.protocol.AGError;
import io.agserver.protocol.Errors;

/**
 * Errors put straight into a packet. An AGError is written as JSON.stringify writes an sc-errors
 * error (its own properties: name, message, extra fields); any other Throwable as its dehydrated
 * form. Jackson's default would send the stack trace and cause chain to the client.
 */
final class ThrowableSerializer extends StdSerializer<Throwable> {

  private static final long serialVersionUID = 1L;

  ThrowableSerializer() {
    super(Throwable.class);
  }

  @Override
  public void serialize(Throwable value, JsonGenerator generator, SerializerProvider provider)
      throws IOException {
    if (!(value instanceof AGError)) {
      provider.defaultSerializeValue(Errors.dehydrate(value), generator);
      return;
    }
    AGError error = (AGError) value;
    generator.writeStartObject();
    generator.writeStringField("name", error.name());
    if (error.getMessage() != null) {
      generator.writeStringField("message", error.getMessage());
    }
    for (Map.Entry<String, Object> field : error.fields().entrySet()) {
      provider.defaultSerializeField(field.getKey(), field.getValue(), generator);
    }
    generator.writeEndObject();
  }
}
