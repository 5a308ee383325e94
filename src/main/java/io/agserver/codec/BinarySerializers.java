package io.agserver.codec;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.deser.std.PrimitiveArrayDeserializers;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Binary values as sc-formatter's replacer sends a Buffer: {"base64":true,"data":"..."} with
 * standard, padded base64.
 */
final class BinarySerializers {

  private BinarySerializers() {
  }

  static void write(byte[] bytes, int offset, int length, JsonGenerator generator) throws IOException {
    byte[] encoded = Base64.getEncoder().encode(ByteBuffer.wrap(bytes, offset, length)).array();
    generator.writeStartObject();
    generator.writeBooleanField("base64", true);
    generator.writeStringField("data", new String(encoded, StandardCharsets.ISO_8859_1));
    generator.writeEndObject();
  }

  static final class ByteArraySerializer extends StdSerializer<byte[]> {
    private static final long serialVersionUID = 1L;

    ByteArraySerializer() {
      super(byte[].class);
    }

    @Override
    public void serialize(byte[] value, JsonGenerator generator, SerializerProvider provider)
        throws IOException {
      write(value, 0, value.length, generator);
    }
  }

  /** Writes the buffer's remaining bytes and leaves its position alone. */
  static final class ByteBufferSerializer extends StdSerializer<ByteBuffer> {
    private static final long serialVersionUID = 1L;

    ByteBufferSerializer() {
      super(ByteBuffer.class);
    }

    @Override
    public void serialize(ByteBuffer value, JsonGenerator generator, SerializerProvider provider)
        throws IOException {
      if (value.hasArray()) {
        write(value.array(), value.arrayOffset() + value.position(), value.remaining(), generator);
      } else {
        byte[] copy = new byte[value.remaining()];
        value.duplicate().get(copy);
        write(copy, 0, copy.length, generator);
      }
    }
  }

  /**
   * Reads byte[] back from the {base64, data} object, so {@code convert} can map a received
   * binary value onto a byte[] property; other shapes (a base64 string, an array of numbers) are
   * read as Jackson normally does.
   */
  static final class ByteArrayDeserializer extends StdDeserializer<byte[]> {
    private static final long serialVersionUID = 1L;

    private final JsonDeserializer<?> standard = PrimitiveArrayDeserializers.forType(Byte.TYPE);

    ByteArrayDeserializer() {
      super(byte[].class);
    }

    @Override
    public byte[] deserialize(JsonParser parser, DeserializationContext context) throws IOException {
      if (!parser.hasToken(JsonToken.START_OBJECT) && !parser.hasToken(JsonToken.FIELD_NAME)) {
        return (byte[]) standard.deserialize(parser, context);
      }
      String data = null;
      boolean base64 = false;
      String field = parser.hasToken(JsonToken.FIELD_NAME) ? parser.currentName() : parser.nextFieldName();
      for (; field != null; field = parser.nextFieldName()) {
        JsonToken token = parser.nextToken();
        if (field.equals("data") && token == JsonToken.VALUE_STRING) {
          data = parser.getText();
        } else if (field.equals("base64")) {
          base64 = token == JsonToken.VALUE_TRUE;
        } else {
          parser.skipChildren();
        }
      }
      if (!base64 || data == null) {
        return (byte[]) context.handleUnexpectedToken(byte[].class, parser);
      }
      try {
        return Base64.getDecoder().decode(data);
      } catch (IllegalArgumentException invalid) {
        return (byte[]) context.handleWeirdStringValue(byte[].class, data, "invalid base64: %s",
            invalid.getMessage());
      }
    }
  }
}
