import Yams

/// template.yaml as CloudFormation and SAM would see it for given parameter values: conditions, rules,
/// intrinsic functions and the Globals every function inherits. The tests ask it what each deployed
/// function's environment and secret permissions are, instead of reading the YAML as text.
///
/// Covers what the template uses (`Ref`, `If`, `Sub`, `Join`, `GetAtt`, `Equals`, `Not`, `And`, `Or`,
/// `Condition`, short and long forms); anything else throws, so a new construct cannot pass unexamined.
struct CloudFormationTemplate {
    /// A property's value once the intrinsic functions are applied.
    indirect enum Value: Equatable {
        case string(String)
        case list([Value])
        case map([String: Value])
        /// `AWS::NoValue`: the property is left out.
        case noValue

        var string: String? { if case .string(let s) = self { s } else { nil } }
    }

    /// What the template cannot be evaluated as.
    struct Unsupported: Error, CustomStringConvertible {
        var description: String
    }

    /// One deployed function, as evaluated.
    struct Function {
        /// Logical id, e.g. `OnUserCreatedFunction`.
        var id: String
        /// The registered function its `Handler` names.
        var handler: String
        /// Globals' variables merged with its own (its own win, as SAM merges them); empty values left out,
        /// because `Environment` treats "" as unset.
        var environment: [String: String]
        /// The `SecretArn` of every `AWSSecretsManagerGetSecretValuePolicy` among its `Policies` (any policy but
        /// these and `KMSDecryptPolicy` throws).
        var readableSecrets: [String]
        /// The `KeyId` of every `KMSDecryptPolicy` among its `Policies`.
        var decryptableKeys: [String] = []
        /// `ReservedConcurrentExecutions`, nil when left out (unreserved).
        var reservedConcurrency: String?
    }

    let root: Node
    /// Every parameter's value: the one given, else its default, else "".
    let parameters: [String: String]
    let parameterTypes: [String: String]

    /// Reads the template with `given` parameter values (the others keep their defaults).
    init(text: String, parameters given: [String: String]) throws {
        guard let root = try Yams.compose(yaml: text) else { throw Unsupported(description: "no YAML document") }
        self.root = root
        var values: [String: String] = [:]
        var types: [String: String] = [:]
        for (key, spec) in root["Parameters"]?.mapping ?? [:] {
            guard let name = key.string else { continue }
            values[name] = given[name] ?? spec["Default"]?.scalar?.string ?? ""
            types[name] = spec["Type"]?.string ?? "String"
        }
        for name in given.keys where values[name] == nil {
            throw Unsupported(description: "no parameter \(name)")
        }
        parameters = values
        parameterTypes = types
    }

    /// Parameter names with a property: `NoEcho: true` ones, for instance.
    func parameterNames(where predicate: (Node) -> Bool) -> [String] {
        (root["Parameters"]?.mapping ?? [:]).compactMap { key, spec in predicate(spec) ? key.string : nil }.sorted()
    }

    /// The rules whose assertions fail with these parameters (CloudFormation refuses the deployment).
    func failingRules() throws -> [String] {
        var failing: [String] = []
        for (key, rule) in root["Rules"]?.mapping ?? [:] {
            guard let name = key.string else { continue }
            if let condition = rule["RuleCondition"], try !bool(condition) { continue }
            for assertion in rule["Assertions"]?.sequence ?? [] {
                guard let test = assertion["Assert"] else { throw Unsupported(description: "rule \(name): an assertion without Assert") }
                if try !bool(test) { failing.append(name) }
            }
        }
        return failing.sorted()
    }

    /// The functions these parameters deploy (a resource whose `Condition` is false is not deployed).
    func functions() throws -> [Function] {
        let globals = try evaluate(root["Globals"]?["Function"]?["Environment"]?["Variables"] ?? Node.mapping([:]))
        var out: [Function] = []
        for (key, resource) in root["Resources"]?.mapping ?? [:] where resource["Type"]?.string == "AWS::Serverless::Function" {
            guard let id = key.string else { continue }
            if let condition = resource["Condition"]?.string, try !self.condition(condition) { continue }
            guard let properties = resource["Properties"], let handler = try evaluate(properties["Handler"] ?? Node("")).string else {
                throw Unsupported(description: "\(id): no Handler")
            }
            let own = try evaluate(properties["Environment"]?["Variables"] ?? Node.mapping([:]))
            guard case .map(let shared) = globals, case .map(let mine) = own else {
                throw Unsupported(description: "\(id): Environment.Variables is not a mapping")
            }
            var environment: [String: String] = [:]
            for (name, value) in shared.merging(mine, uniquingKeysWith: { $1 }) {
                guard let text = value.string else { throw Unsupported(description: "\(id): \(name) is not a string") }
                if !text.isEmpty { environment[name] = text }
            }
            var secrets: [String] = []
            var keys: [String] = []
            if let policies = properties["Policies"] {
                guard case .list(let list) = try evaluate(policies) else { throw Unsupported(description: "\(id): Policies is not a list") }
                for entry in list {
                    // Only the two templates below are read; any other policy (a managed one, an inline statement,
                    // another template) could grant any secret, so it stops the evaluation instead of being skipped.
                    guard case .map(let policy) = entry, policy.count == 1,
                        let name = policy.keys.first, ["KMSDecryptPolicy", "AWSSecretsManagerGetSecretValuePolicy"].contains(name)
                    else {
                        throw Unsupported(description: "\(id): a policy other than KMSDecryptPolicy or AWSSecretsManagerGetSecretValuePolicy")
                    }
                    if let kms = policy["KMSDecryptPolicy"] {
                        guard case .map(let arguments) = kms, let key = arguments["KeyId"]?.string else {
                            throw Unsupported(description: "\(id): KMSDecryptPolicy without a KeyId")
                        }
                        keys.append(key)
                        continue
                    }
                    guard let template = policy["AWSSecretsManagerGetSecretValuePolicy"] else { continue }
                    guard case .map(let arguments) = template, let arn = arguments["SecretArn"]?.string else {
                        throw Unsupported(description: "\(id): AWSSecretsManagerGetSecretValuePolicy without a SecretArn")
                    }
                    secrets.append(arn)
                }
            }
            let reserved = try properties["ReservedConcurrentExecutions"].map { try evaluate($0) }
            if let reserved, reserved != .noValue, reserved.string == nil {
                throw Unsupported(description: "\(id): ReservedConcurrentExecutions is not a number")
            }
            out.append(
                Function(
                    id: id, handler: handler, environment: environment, readableSecrets: secrets, decryptableKeys: keys,
                    reservedConcurrency: reserved?.string))
        }
        return out.sorted { $0.id < $1.id }
    }

    /// A named condition's value.
    func condition(_ name: String) throws -> Bool {
        guard let node = root["Conditions"]?[name] else { throw Unsupported(description: "no condition \(name)") }
        return try bool(node)
    }

    /// A condition function (`Equals`, `Not`, `And`, `Or`, `Condition`).
    func bool(_ node: Node) throws -> Bool {
        let (function, argument) = try intrinsic(node)
        let items = argument.sequence.map(Array.init) ?? []
        switch function {
        case "Equals":
            guard items.count == 2 else { throw Unsupported(description: "Equals takes two values") }
            return try evaluate(items[0]) == evaluate(items[1])
        case "Not":
            guard items.count == 1 else { throw Unsupported(description: "Not takes one condition") }
            return try !bool(items[0])
        case "And": return try items.allSatisfy { try bool($0) }
        case "Or": return try items.contains { try bool($0) }
        case "Condition":
            guard let name = argument.string else { throw Unsupported(description: "Condition takes a name") }
            return try condition(name)
        default: throw Unsupported(description: "\(function ?? "a plain value") is not a condition function")
        }
    }

    /// The function a node calls (`!Ref x` or `{Ref: x}`, `!If [...]` or `{Fn::If: [...]}`) and its argument;
    /// nil for a plain value.
    func intrinsic(_ node: Node) throws -> (String?, Node) {
        let tag = node.tag.description
        if tag.hasPrefix("!") { return (String(tag.dropFirst()), node) }
        if let mapping = node.mapping, mapping.count == 1, let only = mapping.first, let key = only.key.string,
            key == "Ref" || key.hasPrefix("Fn::") || key == "Condition"
        {
            return (key.hasPrefix("Fn::") ? String(key.dropFirst(4)) : key, only.value)
        }
        return (nil, node)
    }

    /// A node's value with every intrinsic function applied; `AWS::NoValue` entries leave their list or map.
    func evaluate(_ node: Node) throws -> Value {
        let (function, argument) = try intrinsic(node)
        let items = argument.sequence.map(Array.init) ?? []
        switch function {
        case nil:
            if let mapping = node.mapping {
                var map: [String: Value] = [:]
                for (key, value) in mapping {
                    guard let name = key.string else { throw Unsupported(description: "a mapping key that is not a string") }
                    let v = try evaluate(value)
                    if v != .noValue { map[name] = v }
                }
                return .map(map)
            }
            if let sequence = node.sequence { return .list(try sequence.map { try evaluate($0) }.filter { $0 != .noValue }) }
            return .string(node.scalar?.string ?? "")
        case "Ref":
            guard let name = argument.scalar?.string else { throw Unsupported(description: "Ref takes a name") }
            return try reference(name)
        case "If":
            guard items.count == 3, let name = items[0].string else { throw Unsupported(description: "If takes [condition, then, else]") }
            return try evaluate(condition(name) ? items[1] : items[2])
        case "Sub":
            if let text = argument.scalar?.string { return .string(try substitute(text, [:])) }
            guard items.count == 2, let text = items[0].string, case .map(let variables) = try evaluate(items[1]) else {
                throw Unsupported(description: "Sub takes a string or [string, variables]")
            }
            return .string(try substitute(text, variables))
        case "Join":
            guard items.count == 2, let separator = items[0].string, case .list(let parts) = try evaluate(items[1]) else {
                throw Unsupported(description: "Join takes [separator, list]")
            }
            return .string(
                try parts.map { part -> String in
                    guard let s = part.string else { throw Unsupported(description: "Join of a non-string") }
                    return s
                }.joined(separator: separator))
        case "GetAtt":
            let target = argument.scalar?.string ?? items.compactMap(\.string).joined(separator: ".")
            return .string("{GetAtt \(target)}")
        case "Equals", "Not", "And", "Or", "Condition":
            return .string(try bool(node) ? "true" : "false")
        case let other?:
            throw Unsupported(description: "\(other) is not evaluated here")
        }
    }

    /// `Ref`: a parameter's value, a pseudo parameter, or a resource (its ARN or name, shown as `{Ref Id}`).
    func reference(_ name: String) throws -> Value {
        if name == "AWS::NoValue" { return .noValue }
        if name.hasPrefix("AWS::") { return .string("{\(name)}") }
        if let value = parameters[name] {
            guard parameterTypes[name] == "CommaDelimitedList" else { return .string(value) }
            return .list(value.split(separator: ",", omittingEmptySubsequences: false).map { .string(String($0)) })
        }
        guard root["Resources"]?[name] != nil else { throw Unsupported(description: "Ref \(name) names nothing") }
        return .string("{Ref \(name)}")
    }

    /// `Sub`: `${Name}` replaced by the variable, parameter or resource; `${Id.Attr}` by the attribute.
    func substitute(_ text: String, _ variables: [String: Value]) throws -> String {
        var out = ""
        var rest = Substring(text)
        while let open = rest.range(of: "${") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else { throw Unsupported(description: "Sub: ${ without }") }
            let name = String(rest[open.upperBound..<close])
            rest = rest[rest.index(after: close)...]
            if name.hasPrefix("!") {
                out += "${" + name.dropFirst() + "}"
                continue
            }
            if let value = variables[name] {
                guard let s = value.string else { throw Unsupported(description: "Sub: ${\(name)} is not a string") }
                out += s
            } else if name.contains(".") {
                out += "{GetAtt \(name)}"
            } else {
                guard let s = try reference(name).string else { throw Unsupported(description: "Sub: ${\(name)} is not a string") }
                out += s
            }
        }
        return out + rest
    }
}
