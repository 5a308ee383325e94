package io.agserver.auth.jwt;

import java.lang.reflect.Field;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;

import jakarta.inject.Inject;

import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.smallrye.jwt.auth.principal.JWTAuthContextInfo;
import io.smallrye.jwt.config.JWTAuthContextInfoProvider;

/**
 * SmallRye JWT's settings, read from MicroProfile Config exactly as SmallRye reads them in a CDI
 * deployment: its JWTAuthContextInfoProvider, a CDI bean, gets every field that is
 * {@code @Inject @ConfigProperty} from the configuration, then builds the JWTAuthContextInfo
 * (key precedence, deprecated aliases, defaults). That bean is vetoed here
 * ({@link SmallRyeJwtBeans}), so this class does the injection: each such field, by its
 * property's name, type and default, converted by the application's Config. The meaning of every
 * {@code mp.jwt.*} and {@code smallrye.jwt.*} key thus stays SmallRye's, version for version;
 * fields SmallRye does not inject (the key store ones in 4.6) are not read, as in CDI.
 */
final class SmallRyeJwtSettings {

  private SmallRyeJwtSettings() {
  }

  /**
   * The context SmallRye's provider builds from {@code config}.
   *
   * @throws IllegalArgumentException naming the key when a value cannot be converted, or when
   *     SmallRye refuses the configuration (a key location that cannot be read, ...)
   */
  static JWTAuthContextInfo contextInfo(Config config) {
    JWTAuthContextInfoProvider provider = new JWTAuthContextInfoProvider();
    for (Field field : JWTAuthContextInfoProvider.class.getDeclaredFields()) {
      ConfigProperty property = field.getAnnotation(ConfigProperty.class);
      if (property == null || !field.isAnnotationPresent(Inject.class)) {
        continue;
      }
      Object value;
      try {
        value = value(config, property, field.getGenericType());
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("Invalid value for " + property.name() + ": " + e.getMessage(), e);
      }
      try {
        field.setAccessible(true);
        field.set(provider, value);
      } catch (ReflectiveOperationException | RuntimeException e) {
        throw new IllegalStateException("Cannot configure SmallRye JWT's " + field + ": " + e, e);
      }
    }
    try {
      return provider.getContextInfo();
    } catch (RuntimeException e) {
      // SmallRye's DeploymentException: its message names the key, the cause says why.
      Throwable cause = e.getCause();
      throw new IllegalArgumentException("Invalid MicroProfile JWT configuration: " + e.getMessage()
          + (cause != null ? " (" + cause.getMessage() + ")" : ""), e);
    }
  }

  /** The value CDI would inject: Optional, collections and primitives as MicroProfile Config has them. */
  private static Object value(Config config, ConfigProperty property, Type type) {
    boolean hasDefault = !ConfigProperty.UNCONFIGURED_VALUE.equals(property.defaultValue());
    if (type instanceof ParameterizedType optional && optional.getRawType() == Optional.class) {
      Type inner = optional.getActualTypeArguments()[0];
      Object value = read(config, property.name(), inner);
      if (value == null && hasDefault) {
        value = convert(config, property.defaultValue(), inner);
      }
      return Optional.ofNullable(value);
    }
    Object value = read(config, property.name(), type);
    if (value == null && hasDefault) {
      value = convert(config, property.defaultValue(), type);
    }
    if (value == null) {
      throw new IllegalArgumentException("no value, and SmallRye needs one");
    }
    return value;
  }

  /** The configured value, or null when the key is not set. */
  private static Object read(Config config, String name, Type type) {
    Class<?> element = elementOf(type);
    if (element != null) {
      return config.getOptionalValues(name, element).map(values -> collection(type, values)).orElse(null);
    }
    return config.getOptionalValue(name, boxed(raw(type))).orElse(null);
  }

  /** A default value, converted as the Config converts configured ones. */
  private static Object convert(Config config, String text, Type type) {
    Class<?> element = elementOf(type);
    if (element != null) {
      List<Object> values = new ArrayList<>();
      for (String item : text.split(",")) {
        values.add(convertOne(config, item.trim(), element));
      }
      return collection(type, values);
    }
    return convertOne(config, text, boxed(raw(type)));
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Object convertOne(Config config, String text, Class<?> type) {
    if (type == String.class) {
      return text;
    }
    Optional<?> converter = config.getConverter(type);
    if (converter.isPresent()) {
      return ((org.eclipse.microprofile.config.spi.Converter<?>) converter.get()).convert(text);
    }
    if (type.isEnum()) {
      // MicroProfile Config's implicit converter for an enum: its valueOf.
      return Enum.valueOf((Class) type, text);
    }
    throw new IllegalArgumentException("no converter for " + type.getName());
  }

  /** The element class of a Set or List type, or null for other types. */
  private static Class<?> elementOf(Type type) {
    if (type instanceof ParameterizedType p && Collection.class.isAssignableFrom(raw(p))) {
      return raw(p.getActualTypeArguments()[0]);
    }
    return null;
  }

  private static Object collection(Type type, List<?> values) {
    // Insertion order for sets: SmallRye reads a PEM key for the first signature algorithm.
    return raw(type) == List.class ? List.copyOf(values) : new LinkedHashSet<>(values);
  }

  private static Class<?> raw(Type type) {
    if (type instanceof Class<?> c) {
      return c;
    }
    if (type instanceof ParameterizedType p && p.getRawType() instanceof Class<?> c) {
      return c;
    }
    throw new IllegalArgumentException("unsupported type " + type);
  }

  private static Class<?> boxed(Class<?> type) {
    if (!type.isPrimitive()) {
      return type;
    }
    if (type == int.class) {
      return Integer.class;
    }
    if (type == long.class) {
      return Long.class;
    }
    if (type == boolean.class) {
      return Boolean.class;
    }
    throw new IllegalArgumentException("unsupported type " + type);
  }
}
